//! Rules for a member's password, after NIST SP 800-63B (5.1.1.2): a length floor and a
//! generous ceiling, no composition rules, and a refusal of passwords that are common,
//! guessable, or built from the member's own email or name. Guessability is estimated with
//! zxcvbn, whose dictionaries include the most common leaked passwords.

use zxcvbn::Score;

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 12;
/// The most characters a password may have (sign-in refuses longer ones).
pub const MAX_CHARS: usize = 1024;

/// Why a password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("the password must have at least {MIN_CHARS} characters (it has {0})")]
    TooShort(usize),
    #[error("the password must have at most {MAX_CHARS} characters (it has {0})")]
    TooLong(usize),
    #[error("the password is too easy to guess{0}; a few unrelated words make a strong one")]
    Guessable(String),
    #[error("the password is made mostly of the member's own email, name or practice")]
    Personal,
}

/// Checks a new password. `personal` holds what an attacker would try first: the member's
/// email, name and practice.
pub fn check(password: &str, personal: &[&str]) -> Result<(), PasswordProblem> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(PasswordProblem::TooShort(n));
    }
    if n > MAX_CHARS {
        return Err(PasswordProblem::TooLong(n));
    }
    // What is left once the member's own words are taken out must stand on its own.
    let mut rest: String = password
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    for token in personal
        .iter()
        .flat_map(|p| p.split(|c: char| !c.is_alphanumeric()))
    {
        let token = token.to_lowercase();
        if token.chars().count() >= 3 {
            rest = rest.replace(&token, "");
        }
    }
    if !personal.is_empty() && rest.chars().count() < 8 {
        return Err(PasswordProblem::Personal);
    }
    // zxcvbn's cost grows with length; past 256 characters a password is not guessable.
    if n <= 256 {
        let mut inputs: Vec<&str> = Vec::new();
        for p in personal {
            inputs.push(p);
            inputs.extend(
                p.split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.len() >= 3),
            );
        }
        let estimate = zxcvbn::zxcvbn(password, &inputs);
        if estimate.score() < Score::Three {
            let why = estimate
                .feedback()
                .and_then(|f| f.warning())
                .map(|w| format!(" ({})", w.to_string().trim_end_matches('.').to_lowercase()))
                .unwrap_or_default();
            return Err(PasswordProblem::Guessable(why));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_limits_count_characters_not_bytes() {
        assert_eq!(check("short", &[]), Err(PasswordProblem::TooShort(5)));
        assert_eq!(
            check(&"é".repeat(1025), &[]),
            Err(PasswordProblem::TooLong(1025))
        );
        assert!(
            check(&"ü".repeat(300), &[]).is_ok(),
            "long enough is not guessable"
        );
    }

    #[test]
    fn common_and_patterned_passwords_are_refused() {
        for weak in [
            "password1234",
            "123456789012",
            "qwertyuiopas",
            "aaaaaaaaaaaa",
            "iloveyou2026!",
            "Password12345",
        ] {
            assert!(
                matches!(check(weak, &[]), Err(PasswordProblem::Guessable(_))),
                "{weak} passed"
            );
        }
    }

    #[test]
    fn the_members_own_details_do_not_make_a_password() {
        let personal = [
            "tui.fletcher@quayside.example",
            "Tui Fletcher",
            "Quayside Legal",
        ];
        assert!(check("quaysidelegal2026", &personal).is_err());
        assert!(check("TuiFletcher!2026", &personal).is_err());
    }

    #[test]
    fn unrelated_words_pass() {
        assert!(check("correct horse battery staple", &[]).is_ok());
        assert!(check("marmalade pangolin treaty 71", &["tui@quayside.example"]).is_ok());
    }
}
