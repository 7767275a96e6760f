//! `formseal confirm`: the data team's half of double opt-in. It opens the collector's store with
//! the private key, offline like `decrypt`, and mails each new sign-up that asks for a
//! confirmation (`envelope.confirm`) a link to the collector's `/v1/confirm/<token>` page, in the
//! form's language, through SMTP (lettre). The store keeps which records were mailed
//! ([`Store::claim_mail`]), claimed before the mail goes out, so no record is ever mailed twice,
//! also when a run is stopped half-way and started again. [`Confirmed`] tells `decrypt` and
//! `export` which records were confirmed, and when.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use formseal_cli::serve::confirm::CONFIRM_PREFIX;
use formseal_cli::serve::now_rfc3339;
use formseal_cli::serve::store::{ConfirmMail, Database, MailState, Selection, Store};
use formseal_core::config::FormConfig;
use formseal_core::envelope::{Envelope, token_sha256};
use formseal_core::time::Date;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use serde_json::Value;

use crate::audit::{self, Actor};
use crate::decrypt::{self, Tally};
use crate::passphrase::KeyArgs;
use crate::progress::ProgressArgs;
use crate::{Hinted, read_text, shown};

/// Mail the double opt-in confirmations of new sign-ups.
///
/// Opens the envelopes in the collector's store with the private key and, for every sign-up that
/// asks for a double opt-in (its form has a purpose with "double_opt_in": true, and the visitor
/// granted it) and was never mailed, sends its e-mail address one mail with a link to the
/// collector's confirmation page, in the language the form was shown in (texts.confirm_subject
/// and texts.confirm_body of the form, else built-in texts in nl, en, de or fr). The page asks
/// for one click, and the collector then stores only the SHA-256 of the link's token and the hour.
///
/// Each record is claimed in the store just before its mail is handed to the SMTP server, so a
/// record is never mailed twice: run it as often as you like (e.g. hourly). A run that stopped
/// while sending leaves that one record claimed and unsent-or-sent; it is reported, never sent
/// again. An address the server refuses for good (while it takes other mail) is not tried again
/// either (and, with confirm_within_days, purged when its time is up); three refusals in a row
/// stop the run and are tried again by the next. Every run appends a line to the audit log.
///
/// SMTP: smtps://HOST[:PORT] is TLS from the start (port 465), smtp://HOST[:PORT] upgrades with
/// STARTTLS and refuses a server that cannot (port 587); only smtp:// to this machine
/// (localhost, 127.0.0.1, ::1), a local relay, goes without TLS. A user name goes in the URL
/// (smtps://mailer@smtp.example), its password in --smtp-password-file or FORMSEAL_SMTP_PASSWORD,
/// never on the command line.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal confirm --db collector.sqlite --key keys/private.pem --form form.json \\
      --smtp smtps://mailer@smtp.shop.example --smtp-password-file smtp-password.txt \\
      --from 'Shop <news@shop.example>'
  formseal confirm --db collector.sqlite --key keys/private.pem --form form.json \\
      --smtp smtp://localhost:25 --from news@shop.example --dry-run")]
pub(crate) struct Args {
    #[command(flatten)]
    key: KeyArgs,

    /// The collector's store: its SQLite file or its postgres:// URL.
    #[arg(long, value_name = "collector.sqlite|postgres://...")]
    db: Database,

    /// The form configs whose sign-ups are confirmed (repeat for several): they say which field
    /// holds the address and what the mail says.
    #[arg(long = "form", value_name = "FORM.json", required = true)]
    forms: Vec<PathBuf>,

    /// The SMTP server: smtps://[USER@]HOST[:PORT] or smtp://[USER@]HOST[:PORT].
    #[arg(long, value_name = "URL")]
    smtp: String,

    /// A file whose first line is the SMTP password [default: the FORMSEAL_SMTP_PASSWORD
    /// variable].
    #[arg(long, value_name = "FILE")]
    smtp_password_file: Option<PathBuf>,

    /// The sender, e.g. 'Shop <news@shop.example>'.
    #[arg(long, value_name = "ADDRESS")]
    from: String,

    /// The collector's public address, which the links point to [default: the origin of the
    /// form's endpoint, when that is a full URL].
    #[arg(long, value_name = "URL")]
    collector: Option<String>,

    /// Only count the mails a run would send; send and record nothing.
    #[arg(long)]
    dry_run: bool,

    #[command(flatten)]
    actor: Actor,

    #[command(flatten)]
    progress: ProgressArgs,
}

/// A sign-up to mail: its record, address, language and token.
struct Pending {
    record: String,
    to: String,
    lang: String,
    token: String,
    form: String,
    /// The day from which it is purged while unconfirmed.
    due: Option<Date>,
}

/// What a run did, for the summary and the audit log.
#[derive(Debug, Default)]
struct Sent {
    sent: u64,
    refused: u64,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let forms = load_forms(&args.forms)?;
    let links: HashMap<String, String> = forms
        .values()
        .map(|form| Ok((form.id.clone(), collector_base(args, form)?)))
        .collect::<anyhow::Result<_>>()?;
    let from: Mailbox = args.from.parse().map_err(|e| {
        Hinted::error(
            format!("--from {:?} is not an e-mail address: {e}", args.from),
            "give an address, or a name and an address: 'Shop <news@shop.example>'",
        )
    })?;
    let mailer = if args.dry_run {
        None
    } else {
        Some(Mailer::connect(args)?)
    };
    let key = args.key.load()?;
    let store = audit::open_store(&args.db)?;
    let claimed = store.mails()?;
    let unsure = claimed
        .values()
        .filter(|state| **state == MailState::Sending)
        .count();
    let mut pending = Vec::new();
    let mut tally = Tally::default();
    let read = decrypt::open_stored(
        &*store,
        Selection::default(),
        &key,
        args.progress,
        &mut tally,
        &mut |record| {
            if !claimed.contains_key(&record.id)
                && let Some(form) = forms.get(&record.envelope.form)
                && let Some(pending_mail) = to_mail(form, record.id, &record.envelope)
            {
                pending.push(pending_mail);
            }
            Ok(())
        },
    );
    if let Err(err) = read {
        store.append_audit(&args.actor.entry(
            "confirm",
            0,
            format!("kid {}, stopped reading: nothing sent", key.kid()),
        ))?;
        return Err(err);
    }
    if unsure > 0 {
        eprintln!(
            "{unsure} record{} claimed by a run that stopped while sending: its mail may or may \
             not have gone out, and is not sent again",
            plural(unsure as u64)
        );
    }
    let Some(mailer) = mailer else {
        eprintln!(
            "would mail {} sign-up{}; nothing sent",
            pending.len(),
            plural(pending.len() as u64)
        );
        println!("{}", pending.len());
        return decrypt::summarise(&tally, &key);
    };
    let mut done = Sent::default();
    let result = send_all(&*store, &mailer, &from, &forms, &links, &pending, &mut done);
    let detail = format!(
        "kid {}, via {}, sent {}, refused {}",
        key.kid(),
        mailer.shown,
        done.sent,
        done.refused
    );
    store.append_audit(&args.actor.entry("confirm", done.sent, detail))?;
    eprintln!(
        "mailed {} sign-up{}; {} address{} refused by the server for good",
        done.sent,
        plural(done.sent),
        done.refused,
        if done.refused == 1 { "" } else { "es" }
    );
    result?;
    println!("{}", done.sent);
    decrypt::summarise(&tally, &key)
}

/// Refusals in a row after which the server, not the addresses, is taken to be at fault (it
/// refuses the sender, say): those sign-ups are unclaimed, for a later run.
const REFUSALS_IN_A_ROW: usize = 3;

/// Sends the mail of each pending sign-up, claiming it first. Stops at the first failure that is
/// not one address's (the server is away, refuses the login, ...): the rest wait for a later run.
fn send_all(
    store: &dyn Store,
    mailer: &Mailer,
    from: &Mailbox,
    forms: &BTreeMap<String, FormConfig>,
    links: &HashMap<String, String>,
    pending: &[Pending],
    done: &mut Sent,
) -> anyhow::Result<()> {
    // Sign-ups the server refused for good since it last took a mail: they stay claimed until a
    // later mail shows that it takes mail from us (then the refusals are the addresses' and
    // final), or until too many in a row show that it does not (then they are unclaimed).
    let mut refused: Vec<&str> = Vec::new();
    let mut took_any = false;
    for mail in pending {
        let claim = ConfirmMail {
            record: mail.record.clone(),
            token: token_sha256(&mail.token),
            due: mail.due,
            at: now_rfc3339(),
        };
        if !store.claim_mail(&claim)? {
            continue; // another run at the same time took it
        }
        let form = &forms[&mail.form];
        let link = format!(
            "{}{CONFIRM_PREFIX}{}?lang={}",
            links[&mail.form], mail.token, mail.lang
        );
        let message = match compose(form, from, mail, &link) {
            Ok(message) => message,
            Err(err) => {
                // Not an address a mail can go to: final, no run tries again.
                eprintln!("record {}: cannot write its mail: {err:#}", mail.record);
                store.mail_done(&mail.record, true)?;
                done.refused += 1;
                continue;
            }
        };
        match mailer.transport.send(&message) {
            Ok(_) => {
                store.mail_done(&mail.record, true)?;
                done.sent += 1;
                took_any = true;
                settle(store, &mut refused, true, done)?;
            }
            Err(err) if err.is_permanent() => {
                eprintln!("record {}: the server refused its mail: {err}", mail.record);
                refused.push(&mail.record);
                if refused.len() >= REFUSALS_IN_A_ROW {
                    settle(store, &mut refused, false, done)?;
                    return Err(Hinted::error(
                        format!(
                            "the SMTP server refused {REFUSALS_IN_A_ROW} mails in a row for good"
                        ),
                        "check --from and what the account may send; the sign-ups it refused \
                         are mailed by the next run",
                    ));
                }
            }
            Err(err) => {
                store.mail_done(&mail.record, false)?;
                settle(store, &mut refused, took_any, done)?;
                return Err(anyhow::Error::new(err).context(Hinted::context(
                    format!("cannot send the mail of record {}", mail.record),
                    "nothing is lost: the sign-ups not mailed yet are mailed by the next run",
                )));
            }
        }
    }
    settle(store, &mut refused, took_any, done)
}

/// Ends the claims of the `refused` sign-ups: final (counted as refused) when the server is
/// known to take our mail, else dropped, so that a later run tries them again.
fn settle(
    store: &dyn Store,
    refused: &mut Vec<&str>,
    known_to_work: bool,
    done: &mut Sent,
) -> anyhow::Result<()> {
    for record in refused.drain(..) {
        store.mail_done(record, known_to_work)?;
        if known_to_work {
            done.refused += 1;
        }
    }
    Ok(())
}

/// The sign-up's mail, if it asks for one: the address of its purpose's e-mail field.
fn to_mail(form: &FormConfig, record: String, envelope: &Envelope) -> Option<Pending> {
    let confirmation = envelope.confirm.as_ref()?;
    let purposes = envelope
        .consent
        .granted
        .iter()
        .filter_map(|id| form.purpose(id))
        .filter(|p| p.double_opt_in);
    let mut due = None;
    let mut to = None;
    for purpose in purposes {
        let field = form.confirmation_field(&purpose.id)?;
        if let Some(Value::String(address)) = envelope.values.get(&field.id) {
            to.get_or_insert_with(|| address.clone());
        }
        if let Some(days) = purpose.confirm_within_days {
            let made = Date::parse(envelope.at.get(..10).unwrap_or_default())?;
            let day = made.plus_days(i64::from(days));
            due = Some(due.map_or(day, |d: Date| d.min(day)));
        }
    }
    Some(Pending {
        record,
        to: to?,
        lang: confirmation.lang.clone(),
        token: confirmation.token.clone(),
        form: form.id.clone(),
        due,
    })
}

/// The mail: the form's texts in the sign-up's language, else the built-in ones.
fn compose(
    form: &FormConfig,
    from: &Mailbox,
    mail: &Pending,
    link: &str,
) -> anyhow::Result<Message> {
    let builtin = builtin(&mail.lang);
    let subject = form
        .texts
        .confirm_subject
        .as_ref()
        .map_or(builtin.subject, |t| form.text(t, &mail.lang));
    let body = form
        .texts
        .confirm_body
        .as_ref()
        .map_or(builtin.body, |t| form.text(t, &mail.lang));
    let title = form.text(&form.texts.title, &mail.lang);
    let body = body.replace("{title}", title);
    let body = if body.contains("{link}") {
        body.replace("{link}", link)
    } else {
        format!("{}\n\n{link}\n", body.trim_end())
    };
    let to: Mailbox = mail.to.parse()?;
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject.replace("{title}", title))
        .header(ContentType::TEXT_PLAIN)
        .body(body)?)
}

/// A built-in mail in one language.
struct Builtin {
    lang: &'static str,
    subject: &'static str,
    body: &'static str,
}

/// The built-in mails, in the widget's four built-in languages; English for any other.
const BUILTIN: [Builtin; 4] = [
    Builtin {
        lang: "en",
        subject: "Please confirm your sign-up: {title}",
        body: "Hello,\n\nsomeone, hopefully you, signed up with this e-mail address for \
               \"{title}\". To confirm, open this link and press the button on the page:\n\n\
               {link}\n\nIf you did not sign up, ignore this e-mail: nothing is sent to you \
               without your confirmation.\n",
    },
    Builtin {
        lang: "nl",
        subject: "Bevestig je aanmelding: {title}",
        body: "Hallo,\n\niemand, hopelijk jij, heeft zich met dit e-mailadres aangemeld voor \
               \"{title}\". Open deze link en druk op de knop op de pagina om dat te \
               bevestigen:\n\n{link}\n\nHeb je je niet aangemeld? Negeer dan deze e-mail: zonder \
               jouw bevestiging sturen we je niets.\n",
    },
    Builtin {
        lang: "de",
        subject: "Bitte bestätigen Sie Ihre Anmeldung: {title}",
        body: "Hallo,\n\njemand, hoffentlich Sie, hat sich mit dieser E-Mail-Adresse für \
               \"{title}\" angemeldet. Öffnen Sie zur Bestätigung diesen Link und drücken Sie \
               die Schaltfläche auf der Seite:\n\n{link}\n\nWenn Sie sich nicht angemeldet \
               haben, ignorieren Sie diese E-Mail: Ohne Ihre Bestätigung senden wir Ihnen \
               nichts.\n",
    },
    Builtin {
        lang: "fr",
        subject: "Veuillez confirmer votre inscription : {title}",
        body: "Bonjour,\n\nquelqu'un, vous sans doute, s'est inscrit avec cette adresse e-mail \
               à « {title} ». Pour confirmer, ouvrez ce lien et appuyez sur le bouton de la \
               page :\n\n{link}\n\nSi vous ne vous êtes pas inscrit, ignorez cet e-mail : sans \
               votre confirmation, nous ne vous envoyons rien.\n",
    },
];

fn builtin(lang: &str) -> &'static Builtin {
    let primary = lang.split(['-', '_']).next().unwrap_or_default();
    BUILTIN
        .iter()
        .find(|b| b.lang.eq_ignore_ascii_case(primary))
        .unwrap_or(&BUILTIN[0])
}

/// The form configs by id, each checked.
fn load_forms(paths: &[PathBuf]) -> anyhow::Result<BTreeMap<String, FormConfig>> {
    let mut forms = BTreeMap::new();
    for path in paths {
        let json = read_text(path, "form config")?;
        let form = FormConfig::from_json(&json).map_err(|err| {
            anyhow::Error::new(err).context(Hinted::context(
                format!("{} is not a valid form config", shown(path)),
                format!("run `formseal check {}` to see every problem", shown(path)),
            ))
        })?;
        if !form.purposes.iter().any(|p| p.double_opt_in) {
            eprintln!(
                "{}: no purpose of form {:?} asks for a double opt-in; nothing to mail for it",
                shown(path),
                form.id
            );
        }
        forms.insert(form.id.clone(), form);
    }
    Ok(forms)
}

/// Where the links of `form`'s mails point: `--collector`, else its endpoint's origin.
fn collector_base(args: &Args, form: &FormConfig) -> anyhow::Result<String> {
    let base = match &args.collector {
        Some(base) => base.clone(),
        None => {
            let endpoint = url::Url::parse(&form.endpoint).map_err(|_| {
                Hinted::error(
                    format!(
                        "form {:?} posts to {:?}, which does not say where the collector is",
                        form.id, form.endpoint
                    ),
                    "give the collector's public address: --collector https://collect.shop.example",
                )
            })?;
            endpoint.origin().ascii_serialization()
        }
    };
    let parsed =
        url::Url::parse(&base).map_err(|e| anyhow!("--collector {base:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(anyhow!("--collector {base:?} is not an http(s) URL"));
    }
    Ok(base.trim_end_matches('/').to_owned())
}

/// The SMTP connection settings, and how they are shown (no password).
struct Mailer {
    transport: SmtpTransport,
    shown: String,
}

impl Mailer {
    /// The transport the `--smtp` URL names, with the password from the file or environment;
    /// checks that the server answers and takes the login before anything is claimed.
    fn connect(args: &Args) -> anyhow::Result<Self> {
        let url = url::Url::parse(&args.smtp).map_err(|e| {
            Hinted::error(
                format!("--smtp {:?} is not a URL: {e}", args.smtp),
                "e.g. smtps://mailer@smtp.shop.example or smtp://localhost:25",
            )
        })?;
        if url.password().is_some() {
            return Err(Hinted::error(
                "--smtp carries a password",
                "put it in --smtp-password-file or FORMSEAL_SMTP_PASSWORD: a command line is \
                 visible to every user of the machine",
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| anyhow!("--smtp {:?} names no host", args.smtp))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let local = matches!(host, "localhost" | "127.0.0.1" | "::1");
        let builder = match url.scheme() {
            "smtps" => SmtpTransport::relay(host)?,
            "smtp" if local => SmtpTransport::builder_dangerous(host).port(25),
            "smtp" => SmtpTransport::starttls_relay(host)?,
            other => {
                return Err(Hinted::error(
                    format!("--smtp scheme {other:?} is not smtp or smtps"),
                    "smtps://HOST for TLS, smtp://HOST for STARTTLS",
                ));
            }
        };
        let mut builder = builder.timeout(Some(Duration::from_secs(30)));
        if let Some(port) = url.port() {
            builder = builder.port(port);
        }
        let user = url.username();
        if !user.is_empty() {
            let user = percent_decode(user);
            builder = builder.credentials(Credentials::new(user, password(args)?));
        }
        let transport = builder.build();
        let shown = format!(
            "{}://{host}:{}",
            url.scheme(),
            url.port().map_or_else(
                || match url.scheme() {
                    "smtps" => "465".to_owned(),
                    _ if local => "25".to_owned(),
                    _ => "587".to_owned(),
                },
                |p| p.to_string(),
            )
        );
        let reachable = transport
            .test_connection()
            .with_context(|| format!("cannot reach the SMTP server {shown}"))?;
        if !reachable {
            return Err(anyhow!("the SMTP server {shown} did not answer"));
        }
        Ok(Self { transport, shown })
    }
}

/// The SMTP password: the first line of `--smtp-password-file`, else FORMSEAL_SMTP_PASSWORD.
fn password(args: &Args) -> anyhow::Result<String> {
    if let Some(path) = &args.smtp_password_file {
        let text = read_text(path, "SMTP password file")?;
        return Ok(text.lines().next().unwrap_or_default().to_owned());
    }
    std::env::var("FORMSEAL_SMTP_PASSWORD").map_err(|_| {
        Hinted::error(
            "--smtp names a user but no password was given",
            "put it in --smtp-password-file FILE or the FORMSEAL_SMTP_PASSWORD variable",
        )
    })
}

/// A URL's user name as typed (`%40` → `@`).
fn percent_decode(text: &str) -> String {
    // `+` is a plus in a URL's user name, not the space of a form's encoding.
    let text = text.replace('+', "%2B");
    url::form_urlencoded::parse(format!("u={text}").as_bytes())
        .next()
        .map_or_else(|| text.clone(), |(_, v)| v.into_owned())
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Which records were confirmed, and when: the store's confirmations, read once.
pub(crate) struct Confirmed {
    hours: HashMap<String, String>,
}

impl Confirmed {
    /// The confirmations of the store at `db`.
    pub(crate) fn load(db: &Database) -> anyhow::Result<Self> {
        let store: Arc<dyn Store> = audit::open_store(db)?;
        Ok(Self {
            hours: store.confirmations()?,
        })
    }

    /// For a record that asks for a double opt-in: the hour it was confirmed, or `false`;
    /// `None` for one that asks for none.
    pub(crate) fn of(&self, envelope: &Envelope) -> Option<Value> {
        let token = &envelope.confirm.as_ref()?.token;
        Some(match self.hours.get(&token_sha256(token)) {
            Some(hour) => Value::String(hour.clone()),
            None => Value::Bool(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mail_speaks_the_sign_ups_language_and_english_otherwise() {
        assert_eq!(builtin("nl").lang, "nl");
        assert_eq!(builtin("de-CH").lang, "de");
        assert_eq!(builtin("pt").lang, "en");
        for mail in &BUILTIN {
            assert!(mail.body.contains("{link}"), "{}", mail.lang);
            assert!(mail.subject.contains("{title}"), "{}", mail.lang);
        }
    }

    #[test]
    fn a_user_name_is_read_as_typed() {
        assert_eq!(percent_decode("news%40shop.example"), "news@shop.example");
        assert_eq!(percent_decode("mailer"), "mailer");
        assert_eq!(percent_decode("a+b"), "a+b");
    }
}
