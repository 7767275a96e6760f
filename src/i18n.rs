//! The visitor's language and the widget's own texts: which of the form's languages to show,
//! and built-in wording (English and Dutch) for buttons, states and answer problems.
//!
//! Texts written by the marketer come from the config; this file only supplies the fallbacks.

use formseal_core::answers::AnswerProblem;
use formseal_core::config::Text;

/// Picks the language to render: the element's `lang` if the form has it, else the form's first
/// language matching the page's `<html lang>`, else the form's first language.
pub(crate) fn choose(languages: &[String], requested: Option<&str>, page: Option<&str>) -> String {
    let find = |wanted: &str| {
        let wanted = wanted.trim().to_ascii_lowercase();
        let primary = wanted.split('-').next().unwrap_or_default().to_owned();
        languages
            .iter()
            .find(|l| l.to_ascii_lowercase() == wanted)
            .or_else(|| {
                languages
                    .iter()
                    .find(|l| l.to_ascii_lowercase().split('-').next() == Some(primary.as_str()))
            })
            .cloned()
    };
    requested
        .and_then(find)
        .or_else(|| page.and_then(find))
        .or_else(|| languages.first().cloned())
        .unwrap_or_else(|| "en".to_owned())
}

/// The text in `lang`, else in the first language it has.
pub(crate) fn pick(text: &Text, lang: &str) -> String {
    text.get(lang)
        .or_else(|| text.values().next())
        .cloned()
        .unwrap_or_default()
}

/// Whether the built-in texts should be Dutch for this language tag.
fn dutch(lang: &str) -> bool {
    lang.split('-')
        .next()
        .is_some_and(|p| p.eq_ignore_ascii_case("nl"))
}

/// One built-in sentence of the widget.
#[derive(Clone, Copy)]
pub(crate) enum Builtin {
    /// The form cannot be used (it failed closed).
    Unavailable,
    /// Default submit label.
    Submit,
    /// Default thanks after the collector acknowledged the submission.
    Success,
    /// Sealing and sending.
    Sending,
    /// The endpoint could not be reached; the envelope is kept and retried.
    WillRetry,
    /// The endpoint refused the envelope for good.
    Failed,
    /// The answers have problems.
    FixErrors,
    /// The privacy notice link.
    PrivacyNotice,
    /// "kept" in the purpose line.
    Kept,
    /// "days" in the purpose line.
    Days,
}

/// The built-in sentence in `lang` (Dutch or English).
pub(crate) fn builtin(lang: &str, text: Builtin) -> &'static str {
    use Builtin as B;
    match (dutch(lang), text) {
        (false, B::Unavailable) => "This form is not available right now.",
        (true, B::Unavailable) => "Dit formulier is nu niet beschikbaar.",
        (false, B::Submit) => "Send",
        (true, B::Submit) => "Versturen",
        (false, B::Success) => "Thank you, we received your answers.",
        (true, B::Success) => "Bedankt, we hebben uw antwoorden ontvangen.",
        (false, B::Sending) => "Sending…",
        (true, B::Sending) => "Bezig met versturen…",
        (false, B::WillRetry) => {
            "We could not reach the server. Your answers are kept safely encrypted on this device and will be sent again automatically."
        }
        (true, B::WillRetry) => {
            "We konden de server niet bereiken. Uw antwoorden blijven versleuteld op dit apparaat en worden automatisch opnieuw verstuurd."
        }
        (false, B::Failed) => "Sending failed. Please try again later.",
        (true, B::Failed) => "Versturen is mislukt. Probeer het later opnieuw.",
        (false, B::FixErrors) => "Please correct the marked fields.",
        (true, B::FixErrors) => "Verbeter de gemarkeerde velden.",
        (false, B::PrivacyNotice) => "Privacy notice",
        (true, B::PrivacyNotice) => "Privacyverklaring",
        (false, B::Kept) => "kept",
        (true, B::Kept) => "bewaard",
        (false, B::Days) => "days",
        (true, B::Days) => "dagen",
    }
}

/// An answer problem worded for the visitor.
pub(crate) fn problem(lang: &str, problem: &AnswerProblem) -> String {
    use AnswerProblem as P;
    if dutch(lang) {
        match problem {
            P::Required => "Dit veld is verplicht.".into(),
            P::WrongType => "Deze waarde is ongeldig.".into(),
            P::TooShort { min } => format!("Gebruik minstens {min} tekens."),
            P::TooLong { max } => format!("Gebruik hoogstens {max} tekens."),
            P::Pattern => "Dit heeft niet de verwachte vorm.".into(),
            P::Email => "Vul een geldig e-mailadres in.".into(),
            P::Phone => "Vul een geldig telefoonnummer in.".into(),
            P::Date => "Vul een geldige datum in.".into(),
            P::Number => "Vul een getal in.".into(),
            P::BelowMin { min } => format!("Vul minstens {min} in."),
            P::AboveMax { max } => format!("Vul hoogstens {max} in."),
            P::NotAnOption => "Kies een van de opties.".into(),
            P::NotOnScale { min, max } => format!("Kies een waarde van {min} tot {max}."),
            P::ConsentRequired { .. } => "Hiervoor is uw toestemming nodig.".into(),
        }
    } else {
        match problem {
            P::Required => "This field is required.".into(),
            P::WrongType => "This value is not valid.".into(),
            P::TooShort { min } => format!("Use at least {min} characters."),
            P::TooLong { max } => format!("Use at most {max} characters."),
            P::Pattern => "This does not have the expected format.".into(),
            P::Email => "Enter a valid e-mail address.".into(),
            P::Phone => "Enter a valid phone number.".into(),
            P::Date => "Enter a valid date.".into(),
            P::Number => "Enter a number.".into(),
            P::BelowMin { min } => format!("Enter at least {min}."),
            P::AboveMax { max } => format!("Enter at most {max}."),
            P::NotAnOption => "Choose one of the options.".into(),
            P::NotOnScale { min, max } => format!("Choose a value from {min} to {max}."),
            P::ConsentRequired { .. } => "Your consent is needed for this.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_attribute_then_page_then_first() {
        let langs = vec!["en".to_owned(), "nl".to_owned()];
        assert_eq!(choose(&langs, Some("nl"), Some("en")), "nl");
        assert_eq!(choose(&langs, None, Some("nl-NL")), "nl");
        assert_eq!(choose(&langs, Some("de"), Some("fr")), "en");
        assert_eq!(choose(&langs, None, None), "en");
    }
}
