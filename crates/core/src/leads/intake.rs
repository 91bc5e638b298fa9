//! Data standards on entry: the minimum a lead must have to be worked, and the keys that find
//! the record a new lead duplicates (the person by e-mail, the company by web domain).

use crate::text::{Email, WebDomain};
use crate::validation::{FieldErrors, Fields, InvalidValue};

/// What a lead holds of the minimum set, as written: company, contact, role, a way to reach
/// them and a real source. Its stage is always set. Whether each value is well formed is
/// its own field's check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Entry<'a> {
    pub company: Option<&'a str>,
    pub contact_name: Option<&'a str>,
    pub role: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub source: Option<&'a str>,
}

/// Sources that say nobody knows where the lead came from.
const PLACEHOLDER_SOURCES: [&str; 10] = [
    "unknown", "n/a", "na", "none", "null", "other", "tbd", "not set", "-", "?",
];

/// Refuses a lead short of the minimum set, naming every missing field.
pub fn check_complete(entry: &Entry<'_>) -> Result<(), FieldErrors> {
    let mut fields = Fields::default();
    let blank = |v: Option<&str>| v.is_none_or(|v| v.trim().is_empty());
    for (field, value, what) in [
        ("company", entry.company, "the company's name"),
        ("name", entry.contact_name, "the contact's name"),
        (
            "title",
            entry.role,
            "the contact's role, such as Head of Operations",
        ),
    ] {
        if blank(value) {
            fields.push(InvalidValue::missing(what).at(field));
        }
    }
    if blank(entry.email) && blank(entry.phone) {
        fields.push(InvalidValue::missing("an e-mail address or a phone number").at("email"));
    }
    match entry.source.map(str::trim) {
        None | Some("") => fields.push(
            InvalidValue::missing("where the lead came from, such as webinar or outbound")
                .at("source"),
        ),
        Some(source)
            if PLACEHOLDER_SOURCES
                .iter()
                .any(|p| p.eq_ignore_ascii_case(source)) =>
        {
            fields.push(
                InvalidValue::new(source, "a real source, such as webinar or outbound")
                    .at("source"),
            )
        }
        Some(_) => {}
    }
    fields.finish()
}

/// The key two leads for the same person share: the address in lower case without a
/// `+tag`, so `Ana+Webinar@Acme.com` matches `ana@acme.com`.
pub fn person_key(email: &Email) -> String {
    let address = email.as_str();
    match address.split_once('@') {
        Some((local, domain)) => {
            let local = local.split_once('+').map_or(local, |(base, _)| base);
            format!("{local}@{domain}")
        }
        None => address.to_owned(),
    }
}

/// Mail services whose domain says nothing about the company.
const FREE_MAIL: [&str; 14] = [
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.de",
    "web.de",
];

/// The web domain that identifies the lead's company: its website if known, otherwise its
/// e-mail domain unless that is a free mail service.
pub fn company_domain(email: Option<&Email>, website: Option<&WebDomain>) -> Option<WebDomain> {
    if let Some(website) = website {
        return Some(website.clone());
    }
    let domain = email?.domain();
    if FREE_MAIL.contains(&domain) {
        return None;
    }
    WebDomain::parse(domain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(text: &str) -> Email {
        Email::parse(text).unwrap()
    }

    #[test]
    fn a_complete_lead_passes_and_a_phone_number_stands_in_for_an_e_mail() {
        let entry = Entry {
            company: Some("Acme Logistics"),
            contact_name: Some("Ana Ruiz"),
            role: Some("VP Operations"),
            email: Some("ana@acme.com"),
            phone: None,
            source: Some("webinar"),
        };
        assert_eq!(check_complete(&entry), Ok(()));
        let by_phone = Entry {
            email: None,
            phone: Some("+49 30 1234567"),
            ..entry
        };
        assert_eq!(check_complete(&by_phone), Ok(()));
    }

    #[test]
    fn every_missing_field_is_named_and_unknown_is_not_a_source() {
        let entry = Entry {
            contact_name: Some("Ana Ruiz"),
            source: Some(" Unknown "),
            ..Entry::default()
        };
        let errors = check_complete(&entry).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field()).collect();
        assert_eq!(fields, ["company", "title", "email", "source"]);
        let source = errors.iter().find(|e| e.field() == "source").unwrap();
        assert_eq!(source.value(), "Unknown");
        assert!(source.expected().contains("a real source"));
    }

    #[test]
    fn the_same_person_is_found_whatever_the_case_or_tag() {
        assert_eq!(person_key(&email("Ana+Webinar@Acme.com")), "ana@acme.com");
        assert_eq!(
            person_key(&email("ana@acme.com")),
            person_key(&email("ANA@ACME.COM"))
        );
    }

    #[test]
    fn the_company_is_found_by_website_or_work_e_mail_but_not_free_mail() {
        let site = WebDomain::parse("https://www.acme.com/contact").unwrap();
        assert_eq!(
            company_domain(Some(&email("ana@gmail.com")), Some(&site)),
            Some(site.clone())
        );
        assert_eq!(
            company_domain(Some(&email("ana@Acme.com")), None),
            Some(WebDomain::parse("acme.com").unwrap())
        );
        assert_eq!(company_domain(Some(&email("ana@gmail.com")), None), None);
        assert_eq!(company_domain(None, None), None);
    }
}
