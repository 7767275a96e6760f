//! `/v1/confirm/<token>`: the page a double opt-in mail links to. Opening it (GET) only shows one
//! button, because mail scanners open links before the reader does; the button's POST stores the
//! SHA-256 of the token and the hour, nothing else. The token is never logged (the request span
//! shows the path through [`logged_path`]) and the page tells browsers to send no referrer.

use std::borrow::Cow;

use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64ct::{Base64UrlUnpadded, Encoding};
use formseal_core::envelope::token_sha256;
use formseal_core::time;
use serde::Deserialize;

use super::app::CONTENT_SECURITY_POLICY;
use super::error::AppError;
use super::store::Store;

/// The route of the confirmation page.
pub const CONFIRM_ROUTE: &str = "/v1/confirm/{token}";

/// What the route starts with: the link is this, the token and `?lang=` with the mail's language.
pub const CONFIRM_PREFIX: &str = "/v1/confirm/";

/// The texts of the page in one language.
struct Texts {
    lang: &'static str,
    title: &'static str,
    ask: &'static str,
    button: &'static str,
    done: &'static str,
    invalid: &'static str,
}

/// The page's texts in the widget's four built-in languages; English for any other.
const TEXTS: [Texts; 4] = [
    Texts {
        lang: "en",
        title: "Confirm your sign-up",
        ask: "Please confirm that you asked to sign up with this e-mail address.",
        button: "Yes, confirm",
        done: "Thank you: your sign-up is confirmed. You can close this page.",
        invalid: "This confirmation link is not valid. Please copy the whole link from the e-mail.",
    },
    Texts {
        lang: "nl",
        title: "Bevestig je aanmelding",
        ask: "Bevestig dat je je met dit e-mailadres hebt aangemeld.",
        button: "Ja, bevestigen",
        done: "Dank je: je aanmelding is bevestigd. Je kunt deze pagina sluiten.",
        invalid: "Deze bevestigingslink is niet geldig. Kopieer de hele link uit de e-mail.",
    },
    Texts {
        lang: "de",
        title: "Anmeldung bestätigen",
        ask: "Bitte bestätigen Sie, dass Sie sich mit dieser E-Mail-Adresse angemeldet haben.",
        button: "Ja, bestätigen",
        done: "Vielen Dank: Ihre Anmeldung ist bestätigt. Sie können diese Seite schließen.",
        invalid: "Dieser Bestätigungslink ist ungültig. Bitte kopieren Sie den ganzen Link aus der E-Mail.",
    },
    Texts {
        lang: "fr",
        title: "Confirmez votre inscription",
        ask: "Veuillez confirmer que vous avez demandé à vous inscrire avec cette adresse e-mail.",
        button: "Oui, je confirme",
        done: "Merci : votre inscription est confirmée. Vous pouvez fermer cette page.",
        invalid: "Ce lien de confirmation n'est pas valide. Copiez le lien entier depuis l'e-mail.",
    },
];

/// The page's query: the language of the mail that linked to it.
#[derive(Debug, Deserialize)]
pub(super) struct Language {
    lang: Option<String>,
}

impl Language {
    /// The texts for the asked language (its primary subtag), English when there are none.
    fn texts(&self) -> &'static Texts {
        let asked = self.lang.as_deref().unwrap_or_default();
        let primary = asked.split(['-', '_']).next().unwrap_or_default();
        TEXTS
            .iter()
            .find(|t| t.lang.eq_ignore_ascii_case(primary))
            .unwrap_or(&TEXTS[0])
    }
}

/// A token as the widget makes them: 128 bits in unpadded base64url (22 characters).
fn is_token(token: &str) -> bool {
    let mut bytes = [0u8; 16];
    token.len() == 22
        && Base64UrlUnpadded::decode(token, &mut bytes).is_ok_and(|decoded| decoded.len() == 16)
}

/// `GET /v1/confirm/<token>`: asks for the click; confirms nothing.
pub(super) async fn ask(Path(token): Path<String>, Query(language): Query<Language>) -> Response {
    let texts = language.texts();
    if !is_token(&token) {
        return page(StatusCode::NOT_FOUND, texts, texts.invalid, false);
    }
    page(StatusCode::OK, texts, texts.ask, true)
}

/// `POST /v1/confirm/<token>`: stores the token's SHA-256 and the hour (the first hour stays
/// when the button is pressed again) and thanks the reader.
pub(super) async fn confirm(
    store: std::sync::Arc<dyn Store>,
    token: String,
    language: Language,
    now_unix: i64,
) -> Result<Response, AppError> {
    let texts = language.texts();
    if !is_token(&token) {
        return Ok(page(StatusCode::NOT_FOUND, texts, texts.invalid, false));
    }
    let hour = time::coarse_timestamp(now_unix);
    let sha256 = token_sha256(&token);
    tokio::task::spawn_blocking(move || store.confirm(&sha256, &hour)).await??;
    Ok(page(StatusCode::OK, texts, texts.done, false))
}

/// The whole page: a heading, one sentence and, when `button`, the form that posts to this
/// same address. No script, no style, no request to anywhere else; never cached, never indexed,
/// no referrer (the address holds the token).
fn page(status: StatusCode, texts: &Texts, sentence: &str, button: bool) -> Response {
    let form = if button {
        format!(
            "<form method=\"post\"><button type=\"submit\">{}</button></form>\n",
            texts.button
        )
    } else {
        String::new()
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title}</title>\n</head>\n<body>\n\
         <main>\n<h1>{title}</h1>\n<p>{sentence}</p>\n{form}</main>\n</body>\n</html>\n",
        lang = texts.lang,
        title = texts.title,
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

/// A request's path as the log shows it: a confirmation link's token left out.
pub fn logged_path(path: &str) -> Cow<'_, str> {
    match path.strip_prefix(CONFIRM_PREFIX) {
        Some(_) => Cow::Owned(format!("{CONFIRM_PREFIX}…")),
        None => Cow::Borrowed(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_22_character_base64url_tokens_of_128_bits_are_taken() {
        assert!(is_token("AAAAAAAAAAAAAAAAAAAAAA"));
        assert!(is_token("q83vEjRWeJCrze8SNFZ4kA"));
        for bad in [
            "",
            "short",
            "AAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAA+A",
            "../../etc/passwdxxxxxx",
        ] {
            assert!(!is_token(bad), "{bad}");
        }
    }

    #[test]
    fn the_log_never_shows_a_token() {
        assert_eq!(
            logged_path("/v1/confirm/q83vEjRWeJCrze8SNFZ4kA"),
            "/v1/confirm/…"
        );
        assert_eq!(logged_path("/v1/submissions"), "/v1/submissions");
    }

    #[test]
    fn the_page_speaks_the_mails_language_and_english_otherwise() {
        let texts = |lang: Option<&str>| {
            Language {
                lang: lang.map(String::from),
            }
            .texts()
            .lang
        };
        assert_eq!(texts(Some("nl")), "nl");
        assert_eq!(texts(Some("de-AT")), "de");
        assert_eq!(texts(Some("FR")), "fr");
        assert_eq!(texts(Some("sv")), "en");
        assert_eq!(texts(None), "en");
    }
}
