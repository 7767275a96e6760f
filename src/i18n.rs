//! The visitor's language and the widget's own texts: which of the form's languages to show,
//! and built-in wording (English, Dutch, German, French) for buttons, states, the consent banner
//! and answer problems.
//!
//! Texts written by the marketer come from the config; this file only supplies the fallbacks.

// The consent build (`banner` without `forms`) words no answer problems or pages; builds
// without `banner` are allowed their dead code where `lib.rs` declares this module.
#![cfg_attr(all(feature = "banner", not(feature = "forms")), allow(dead_code))]

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

/// The languages the widget has built-in texts for; any other falls back to English.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Builtins {
    En = 0,
    Nl = 1,
    De = 2,
    Fr = 3,
}

impl Builtins {
    fn of(lang: &str) -> Self {
        match lang
            .split('-')
            .next()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("nl") => Self::Nl,
            Some("de") => Self::De,
            Some("fr") => Self::Fr,
            _ => Self::En,
        }
    }
}

// `Builtin`, `TEXTS` and `override_key`, from `src/texts.json` (see build.rs).
include!(concat!(env!("OUT_DIR"), "/builtin_texts.rs"));

/// The built-in sentence in `lang` (Dutch, English, German or French; English otherwise).
pub(crate) fn builtin(lang: &str, text: Builtin) -> &'static str {
    TEXTS[text as usize][Builtins::of(lang) as usize]
}

/// "Page 2 of 5" in `lang`.
pub(crate) fn page_of(lang: &str, at: usize, of: usize) -> String {
    builtin(lang, Builtin::PageOf)
        .replace("{at}", &at.to_string())
        .replace("{of}", &of.to_string())
}

/// An answer problem worded for the visitor.
pub(crate) fn problem(lang: &str, problem: &AnswerProblem) -> String {
    use AnswerProblem as P;
    let l = Builtins::of(lang) as usize;
    let pick4 = |texts: [&str; 4]| texts[l].to_owned();
    match problem {
        P::Required => pick4([
            "This field is required.",
            "Dit veld is verplicht.",
            "Dieses Feld ist erforderlich.",
            "Ce champ est obligatoire.",
        ]),
        P::WrongType => pick4([
            "This value is not valid.",
            "Deze waarde is ongeldig.",
            "Dieser Wert ist ungültig.",
            "Cette valeur n'est pas valide.",
        ]),
        P::TooShort { min } => [
            "Use at least {} characters.",
            "Gebruik minstens {} tekens.",
            "Mindestens {} Zeichen.",
            "Au moins {} caractères.",
        ][l]
            .replace("{}", &min.to_string()),
        P::TooLong { max } => [
            "Use at most {} characters.",
            "Gebruik hoogstens {} tekens.",
            "Höchstens {} Zeichen.",
            "Au plus {} caractères.",
        ][l]
            .replace("{}", &max.to_string()),
        P::Pattern => pick4([
            "This does not have the expected format.",
            "Dit heeft niet de verwachte vorm.",
            "Das Format stimmt nicht.",
            "Le format n'est pas celui attendu.",
        ]),
        P::Email => pick4([
            "Enter a valid e-mail address.",
            "Vul een geldig e-mailadres in.",
            "Geben Sie eine gültige E-Mail-Adresse ein.",
            "Saisissez une adresse e-mail valide.",
        ]),
        P::Phone => pick4([
            "Enter a valid phone number.",
            "Vul een geldig telefoonnummer in.",
            "Geben Sie eine gültige Telefonnummer ein.",
            "Saisissez un numéro de téléphone valide.",
        ]),
        P::Date => pick4([
            "Enter a valid date.",
            "Vul een geldige datum in.",
            "Geben Sie ein gültiges Datum ein.",
            "Saisissez une date valide.",
        ]),
        P::Number => pick4([
            "Enter a number.",
            "Vul een getal in.",
            "Geben Sie eine Zahl ein.",
            "Saisissez un nombre.",
        ]),
        P::BelowMin { min } => [
            "Enter at least {}.",
            "Vul minstens {} in.",
            "Mindestens {}.",
            "Au moins {}.",
        ][l]
            .replace("{}", &min.to_string()),
        P::AboveMax { max } => [
            "Enter at most {}.",
            "Vul hoogstens {} in.",
            "Höchstens {}.",
            "Au plus {}.",
        ][l]
            .replace("{}", &max.to_string()),
        P::NotAnOption => pick4([
            "Choose one of the options.",
            "Kies een van de opties.",
            "Wählen Sie eine der Optionen.",
            "Choisissez l'une des options.",
        ]),
        P::NotOnScale { min, max } => [
            "Choose a value from {min} to {max}.",
            "Kies een waarde van {min} tot {max}.",
            "Wählen Sie einen Wert von {min} bis {max}.",
            "Choisissez une valeur de {min} à {max}.",
        ][l]
            .replace("{min}", &min.to_string())
            .replace("{max}", &max.to_string()),
        P::ConsentRequired { .. } => pick4([
            "Your consent is needed for this.",
            "Hiervoor is uw toestemming nodig.",
            "Dafür ist Ihre Einwilligung nötig.",
            "Votre consentement est nécessaire.",
        ]),
        P::MatrixIncomplete { .. } => pick4([
            "Answer every statement.",
            "Beantwoord elke uitspraak.",
            "Beantworten Sie jede Aussage.",
            "Répondez à chaque affirmation.",
        ]),
        P::UnknownStatement => pick4([
            "This statement is not part of the question.",
            "Deze uitspraak hoort niet bij de vraag.",
            "Diese Aussage gehört nicht zur Frage.",
            "Cette affirmation ne fait pas partie de la question.",
        ]),
        P::RankingIncomplete => pick4([
            "Put every option in order.",
            "Zet alle opties op volgorde.",
            "Bringen Sie alle Optionen in eine Reihenfolge.",
            "Classez toutes les options.",
        ]),
        P::RankingDuplicate => pick4([
            "Each option can appear only once.",
            "Elke optie mag maar één keer voorkomen.",
            "Jede Option darf nur einmal vorkommen.",
            "Chaque option ne peut apparaître qu'une fois.",
        ]),
        P::OtherInvalid => pick4([
            "Fill in your 'other' answer.",
            "Vul bij 'anders' iets in.",
            "Füllen Sie Ihre Antwort bei 'Sonstiges' aus.",
            "Complétez votre réponse « autre ».",
        ]),
        P::OtherTooLong { max } => [
            "Use at most {} characters for 'other'.",
            "Gebruik bij 'anders' hoogstens {} tekens.",
            "Höchstens {} Zeichen bei 'Sonstiges'.",
            "Au plus {} caractères pour « autre ».",
        ][l]
            .replace("{}", &max.to_string()),
        P::FileTooLarge { max_bytes } => [
            "This file is too large (at most {}).",
            "Dit bestand is te groot (hoogstens {}).",
            "Diese Datei ist zu groß (höchstens {}).",
            "Ce fichier est trop volumineux (au plus {}).",
        ][l]
            .replace("{}", &size(*max_bytes)),
        P::FileType { accept } => [
            "This type of file is not accepted ({}).",
            "Dit soort bestand wordt niet aangenomen ({}).",
            "Dieser Dateityp wird nicht angenommen ({}).",
            "Ce type de fichier n'est pas accepté ({}).",
        ][l]
            .replace("{}", &accept.join(", ")),
        P::FileContent => pick4([
            "The file's content does not match its type.",
            "De inhoud van het bestand past niet bij het type.",
            "Der Inhalt der Datei passt nicht zu ihrem Typ.",
            "Le contenu du fichier ne correspond pas à son type.",
        ]),
        P::FileMalformed => pick4([
            "This file cannot be read.",
            "Dit bestand kan niet gelezen worden.",
            "Diese Datei kann nicht gelesen werden.",
            "Ce fichier ne peut pas être lu.",
        ]),
    }
}

/// A byte count as people read it: `2 MB`, `500 kB`.
fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.0} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} kB", bytes.div_ceil(1024))
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

    #[test]
    fn builtins_in_four_languages_and_english_otherwise() {
        assert_eq!(builtin("nl-BE", Builtin::RejectAll), "Alles weigeren");
        assert_eq!(builtin("de", Builtin::AcceptAll), "Alle akzeptieren");
        assert_eq!(builtin("fr", Builtin::Choose), "Choisir");
        assert_eq!(builtin("sv", Builtin::Close), "Close");
        assert_eq!(builtin("en", Builtin::Saved), "Your choices are saved.");
        let scale = AnswerProblem::NotOnScale { min: 1, max: 5 };
        assert_eq!(problem("fr", &scale), "Choisissez une valeur de 1 à 5.");
    }

    #[test]
    fn the_overridable_texts_are_the_cores_banner_texts() {
        use Builtin as B;
        let all = [
            B::PrivacyNotice,
            B::AcceptAll,
            B::RejectAll,
            B::Choose,
            B::Save,
            B::Settings,
            B::AlwaysOn,
            B::WithdrawAll,
            B::Receipt,
            B::Close,
            B::GpcNote,
            B::Submit,
            B::Saved,
        ];
        let mut keys: Vec<&str> = all.into_iter().filter_map(override_key).collect();
        // And those only the loader's modules show (`"widget": false`), which the wasm lacks.
        let source: serde_json::Value =
            serde_json::from_str(include_str!("texts.json")).expect("src/texts.json");
        let loader_only = source["texts"]
            .as_array()
            .expect("texts")
            .iter()
            .filter(|t| {
                t["widget"].as_bool() == Some(false) && t["override"].as_bool() == Some(true)
            });
        keys.extend(loader_only.map(|t| t["key"].as_str().expect("key")));
        let mut expected = formseal_core::consent::BANNER_TEXTS.to_vec();
        keys.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }
}
