//! People for seeding: names from many languages and unique, realistic,
//! messy email addresses (some capitalised, a chosen fraction broken the ways
//! old imports break them), and the syntactic address check vendors apply
//! to writes.

use rand::Rng;
use rand::seq::IndexedRandom;

/// First names, a few with letters beyond ASCII.
pub const FIRST_NAMES: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dmitri", "Emma", "Farah", "Gustav", "Hana", "Ivan", "José", "Kai", "Lena", "Marta", "Noah",
    "Olivia", "Priya", "Quinn", "Rafael", "Sofía", "Tom", "Uma", "Viktor", "Wen", "Xavier", "Yuki", "Zoë", "Łukasz",
    "Søren",
];

/// Last names, a few with letters beyond ASCII or an apostrophe.
pub const LAST_NAMES: &[&str] = &[
    "Andersen",
    "Brown",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hughes",
    "Ito",
    "Jansen",
    "Kowalski",
    "López",
    "Müller",
    "Nguyen",
    "O'Brien",
    "Patel",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Underwood",
    "Van Dijk",
    "Wójcik",
    "Young",
    "Zhang",
];

const DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.co.uk",
    "icloud.com",
    "fastmail.fm",
    "proton.me",
    "acme-corp.io",
    "northwind.biz",
    "web.de",
];

/// A person to seed: names and a unique, well-formed address.
#[derive(Debug, Clone)]
pub struct Person {
    /// One of [`FIRST_NAMES`].
    pub first_name: &'static str,
    /// One of [`LAST_NAMES`].
    pub last_name: &'static str,
    /// The address, unique by index (case aside).
    pub email: String,
    /// Whether `email` was made broken on purpose (in one of the
    /// five ways old imports break them), so tests can know which members are bad
    /// without asking a validator.
    pub invalid: bool,
}

/// Person `index` of a seeded population; addresses are unique by index and
/// some carry upper-case letters, as addresses typed by people do. With
/// probability `invalid_fraction` the address is broken instead. Draws from
/// `rng`, so a generator seeded per record gives the same person every time.
pub fn person(rng: &mut impl Rng, index: usize, invalid_fraction: f64) -> Person {
    let first_name = FIRST_NAMES.choose(rng).copied().unwrap_or("Ana");
    let last_name = LAST_NAMES.choose(rng).copied().unwrap_or("Brown");
    let domain = DOMAINS.choose(rng).copied().unwrap_or("gmail.com");
    let local = format!("{}.{}{index}", ascii(first_name), ascii(last_name));
    let invalid = invalid_fraction > 0.0 && rng.random_bool(invalid_fraction.min(1.0));
    let email = if invalid {
        invalid_address(&local, domain, index)
    } else if rng.random_bool(0.05) {
        let mut capitalised = format!("{local}@{domain}");
        capitalised[..1].make_ascii_uppercase();
        capitalised
    } else {
        format!("{local}@{domain}")
    };
    Person { first_name, last_name, email, invalid }
}

/// The kinds of broken address found in old imports; all fail
/// [`is_valid_email`].
fn invalid_address(local: &str, domain: &str, index: usize) -> String {
    match index % 5 {
        0 => format!("{local}@"),
        1 => format!("{local}@@{domain}"),
        2 => format!("{local} @{domain}"),
        3 => format!("{local}@{}", domain.split('.').next().unwrap_or("mail")),
        _ => format!("{local}.{domain}"),
    }
}

fn ascii(name: &str) -> String {
    name.chars()
        .filter_map(|character| match character {
            'é' | 'è' => Some('e'),
            'í' => Some('i'),
            'ó' | 'ø' => Some('o'),
            'ë' => Some('e'),
            'Ł' => Some('l'),
            'ł' => Some('l'),
            'ü' => Some('u'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// A syntactic check: one `@`, a local part and a dotted domain without
/// spaces, ending in a letters-only top-level domain.
pub fn is_valid_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let Some((_, top_level)) = domain.rsplit_once('.') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !address.chars().any(char::is_whitespace)
        && domain.split('.').all(|label| !label.is_empty())
        && top_level.len() >= 2
        && top_level.chars().all(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_pcg::Pcg64;

    use super::*;

    fn check(address: &str, expected: bool) {
        assert_eq!(is_valid_email(address), expected, "{address}");
    }

    #[test]
    fn addresses() {
        check("ana.brown1@gmail.com", true);
        check("Ana.Brown1@Gmail.com", true);
        check("a@b.co", true);
        check("ana@", false);
        check("ana@@gmail.com", false);
        check("ana @gmail.com", false);
        check("ana@gmail", false);
        check("ana.gmail.com", false);
        check("ana@gmail..com", false);
        check("ana@gmail.c0m", false);
    }

    #[test]
    fn every_invalid_kind_fails_the_check() {
        for index in 0..5 {
            let address = invalid_address("ana.brown", "gmail.com", index);
            check(&address, false);
        }
    }

    #[test]
    fn seeded_people_are_unique_and_mostly_valid() {
        let mut rng = Pcg64::seed_from_u64(3);
        let people: Vec<Person> = (0..2000).map(|index| person(&mut rng, index, 0.01)).collect();
        let valid = people.iter().filter(|p| is_valid_email(&p.email)).count();
        assert!(people.iter().all(|p| p.invalid != is_valid_email(&p.email)), "`invalid` says which are broken");
        assert!((1940..2000).contains(&valid), "{valid}");
        let mut addresses: Vec<String> = people.iter().map(|p| p.email.to_lowercase()).collect();
        addresses.sort();
        addresses.dedup();
        assert_eq!(addresses.len(), 2000);
    }
}
