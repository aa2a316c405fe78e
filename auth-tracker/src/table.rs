//! Validation of configurable table names.

use crate::error::{Error, Result};

/// Checks that `name` is a plain SQL identifier, so it can be written into SQL text
/// unquoted: 1 to 63 ASCII letters, digits or underscores, not starting with a digit.
/// 63 bytes is PostgreSQL's identifier limit, the smallest of the supported backends.
pub(crate) fn validate_table_name(name: &str) -> Result<&str> {
    let mut bytes = name.bytes();
    let starts_well = bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_');
    let rest_ok = bytes.all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
    if starts_well && rest_ok && name.len() <= 63 {
        Ok(name)
    } else {
        Err(Error::InvalidTableName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::validate_table_name;

    #[test]
    fn table_name_accepts_identifiers() {
        for name in ["logins", "_logins", "user_logins_2", &"a".repeat(63)] {
            assert!(validate_table_name(name).is_ok(), "{name} should be valid");
        }
    }

    #[test]
    fn table_name_rejects_everything_else() {
        let long = "a".repeat(64);
        for name in [
            "",
            "2logins",
            "logins; DROP TABLE users",
            "my-logins",
            "lögins",
            "a.b",
            &long,
        ] {
            assert!(
                validate_table_name(name).is_err(),
                "{name:?} should be rejected"
            );
        }
    }
}
