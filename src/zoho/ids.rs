//! Zoho record ids: 18–19 digit numbers that must stay strings.
//!
//! They exceed 2^53, so a JSON number would lose digits in many clients; and
//! an id beyond i64 reportedly makes Zoho answer with the *current* user
//! instead of "not found". Every id is validated here before a request.

use std::fmt;

/// A validated Zoho id: 1–19 ASCII digits, within i64.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ZohoId(String);

/// Why a string is not a Zoho id. The message tells the caller how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{what} is empty; pass the numeric id as a string, e.g. \"4876543000000012345\"")]
    Empty { what: &'static str },
    #[error(
        "{what} '{value}' is not a Zoho id: ids are up to 19 digits (0-9) only, passed as a string"
    )]
    NotDigits { what: &'static str, value: String },
    #[error(
        "{what} '{value}' is too long or too large: Zoho ids have at most 19 digits and fit in a signed 64-bit integer"
    )]
    TooLarge { what: &'static str, value: String },
}

impl ZohoId {
    /// Validates `value` as an id; `what` names it in the error ("user_id").
    pub fn parse(value: &str, what: &'static str) -> Result<ZohoId, IdError> {
        let v = value.trim();
        if v.is_empty() {
            return Err(IdError::Empty { what });
        }
        // Cap what we echo back: the value may be anything a model produced.
        let shown: String = v.chars().take(40).collect();
        if !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::NotDigits { what, value: shown });
        }
        if v.len() > 19 || v.parse::<i64>().is_err() {
            return Err(IdError::TooLarge { what, value: shown });
        }
        Ok(ZohoId(v.to_string()))
    }

    /// The id as Zoho spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ZohoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_19_digit_ids_within_i64() {
        assert_eq!(
            ZohoId::parse("4876543000000012345", "user_id")
                .unwrap()
                .as_str(),
            "4876543000000012345"
        );
        assert_eq!(ZohoId::parse(" 42 ", "user_id").unwrap().as_str(), "42");
        assert!(ZohoId::parse("9223372036854775807", "user_id").is_ok());
    }

    #[test]
    fn rejects_everything_else_with_a_hint() {
        assert!(matches!(
            ZohoId::parse("", "user_id"),
            Err(IdError::Empty { .. })
        ));
        assert!(matches!(
            ZohoId::parse("12a", "user_id"),
            Err(IdError::NotDigits { .. })
        ));
        assert!(matches!(
            ZohoId::parse("-1", "user_id"),
            Err(IdError::NotDigits { .. })
        ));
        assert!(matches!(
            ZohoId::parse("1e5", "user_id"),
            Err(IdError::NotDigits { .. })
        ));
        assert!(matches!(
            ZohoId::parse("9223372036854775808", "user_id"),
            Err(IdError::TooLarge { .. })
        ));
        assert!(matches!(
            ZohoId::parse("12345678901234567890", "user_id"),
            Err(IdError::TooLarge { .. })
        ));
        let msg = ZohoId::parse("abc", "profile_id").unwrap_err().to_string();
        assert!(
            msg.contains("profile_id 'abc'") && msg.contains("19 digits"),
            "{msg}"
        );
    }
}
