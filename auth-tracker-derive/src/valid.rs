//! Rules on the parsed input that the attribute syntax alone does not enforce.

use syn::ext::IdentExt;

use crate::ast::{Input, Shape};
use crate::attr;
use crate::ctxt::Ctxt;

/// Maximum identifier length in bytes that PostgreSQL keeps whole. It truncates longer
/// names to this length, because its default `NAMEDATALEN` is 64.
const MAX_TABLE_NAME_LEN: usize = 63;

/// Records every rule that `input` breaks in `cx`.
pub(crate) fn validate(input: &Input<'_>, cx: &Ctxt) {
    check_shape(input, cx);
    check_field_attrs(input, cx);
    check_id_field(input, cx);
    check_user_type(input, cx);
    check_table(input, cx);
}

/// Checks that the derive is on a struct with named fields, because the user's key is
/// read from a named field.
fn check_shape(input: &Input<'_>, cx: &Ctxt) {
    let what = match input.shape {
        Shape::Named(_) => return,
        Shape::Tuple => "a tuple struct",
        Shape::Unit => "a unit struct",
        Shape::Enum(_) => "an enum",
        Shape::Union(_) => "a union",
    };
    let message =
        format!("`AuthTracking` cannot be derived for {what}, only for a struct with named fields");
    match input.shape {
        Shape::Enum(token) => cx.error_spanned_by(token, message),
        Shape::Union(token) => cx.error_spanned_by(token, message),
        _ => cx.error_spanned_by(input.ident, message),
    }
}

/// Rejects `#[auth_tracking(...)]` on fields, because it is a container attribute and
/// the id field is chosen with `id`.
fn check_field_attrs(input: &Input<'_>, cx: &Ctxt) {
    let Shape::Named(fields) = &input.shape else {
        return;
    };
    for field in fields {
        for attr in &field.helper_attrs {
            cx.error_spanned_by(
                attr,
                format!(
                    "`#[auth_tracking(...)]` is not supported on fields, put it on the struct, such as `{}`",
                    attr::ID.form
                ),
            );
        }
    }
}

/// Checks that the id field, `id` unless set with `id = ...`, exists.
fn check_id_field(input: &Input<'_>, cx: &Ctxt) {
    let Shape::Named(fields) = &input.shape else {
        return;
    };
    // A malformed `id` value was reported already, and the default `id` is not what the
    // user meant.
    if input.id_field().is_some() || (input.attrs.id.is_none() && input.attrs.is_written(attr::ID))
    {
        return;
    }
    let names: Vec<String> = fields
        .iter()
        .map(|field| format!("`{}`", field.ident.unraw()))
        .collect();
    let found = if names.is_empty() {
        "it has no fields".to_owned()
    } else {
        format!("its fields are {}", names.join(", "))
    };
    match &input.attrs.id {
        Some(id) => cx.error_spanned_by(
            id,
            format!(
                "`{}` has no field `{}`, {found}",
                input.ident,
                input.id_name()
            ),
        ),
        None => cx.error_spanned_by(
            input.ident,
            format!(
                "`{}` has no field `id`, name the field holding the user's key with `{}`",
                input.ident,
                attr::ID.form
            ),
        ),
    }
}

/// Rejects an empty `user_type`, because it is stored in every login row to distinguish
/// user models.
fn check_user_type(input: &Input<'_>, cx: &Ctxt) {
    if let Some(user_type) = &input.attrs.user_type
        && user_type.value().is_empty()
    {
        cx.error_spanned_by(
            user_type,
            format!(
                "`user_type` must not be empty\nexpected `{}`",
                attr::USER_TYPE.form
            ),
        );
    }
}

/// Checks that the table name is a plain identifier, because it ends up in SQL text
/// and must need no quoting or escaping.
fn check_table(input: &Input<'_>, cx: &Ctxt) {
    if let Some(table) = &input.attrs.table
        && let Some(problem) = table_name_problem(&table.value())
    {
        cx.error_spanned_by(
            table,
            format!(
                "invalid table name, {problem}\nexpected 1 to {MAX_TABLE_NAME_LEN} ASCII letters, digits or underscores, not starting with a digit"
            ),
        );
    }
}

/// Describes why `name` is not a plain SQL identifier, or returns `None` when it is.
fn table_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".to_owned());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!("`{name}` contains {c:?}"));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(format!("`{name}` starts with a digit"));
    }
    if name.len() > MAX_TABLE_NAME_LEN {
        return Some(format!("`{name}` is {} characters long", name.len()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::table_name_problem;

    #[test]
    fn table_name_accepts_identifiers() {
        for name in [
            "logins",
            "a",
            "_x",
            "user_logins_2",
            "Logins",
            &"a".repeat(63),
        ] {
            assert_eq!(table_name_problem(name), None, "{name}");
        }
    }

    #[test]
    fn table_name_rejects_non_identifiers() {
        let cases = [
            ("", "the name is empty"),
            ("my-logins", "`my-logins` contains '-'"),
            ("public.logins", "`public.logins` contains '.'"),
            ("my logins", "`my logins` contains ' '"),
            ("logins\"", "`logins\"` contains '\"'"),
            ("lögins", "`lögins` contains 'ö'"),
            ("2fa_logins", "`2fa_logins` starts with a digit"),
        ];
        for (name, expected) in cases {
            assert_eq!(
                table_name_problem(name).as_deref(),
                Some(expected),
                "{name}"
            );
        }
    }

    #[test]
    fn table_name_rejects_64_characters() {
        let name = "a".repeat(64);
        assert_eq!(
            table_name_problem(&name),
            Some(format!("`{name}` is 64 characters long"))
        );
    }
}
