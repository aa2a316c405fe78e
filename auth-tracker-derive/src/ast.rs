//! Borrowed model of the derive input.

use syn::ext::IdentExt;
use syn::{Attribute, Data, DeriveInput, Fields, Generics, Ident, Token, Type};

use crate::attr::{self, Attrs};
use crate::ctxt::Ctxt;

pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) generics: &'a Generics,
    pub(crate) attrs: Attrs,
    pub(crate) shape: Shape<'a>,
}

/// Kind of item the derive was placed on. Only `Named` is supported.
pub(crate) enum Shape<'a> {
    Named(Vec<Field<'a>>),
    Tuple,
    Unit,
    Enum(&'a Token![enum]),
    Union(&'a Token![union]),
}

pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    /// `#[auth_tracking(...)]` attributes on the field, which are not supported.
    pub(crate) helper_attrs: Vec<&'a Attribute>,
}

impl<'a> Input<'a> {
    pub(crate) fn from_syn(node: &'a DeriveInput, cx: &Ctxt) -> Self {
        let shape = match &node.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(fields) => {
                    Shape::Named(fields.named.iter().map(Field::from_syn).collect())
                }
                Fields::Unnamed(_) => Shape::Tuple,
                Fields::Unit => Shape::Unit,
            },
            Data::Enum(data) => Shape::Enum(&data.enum_token),
            Data::Union(data) => Shape::Union(&data.union_token),
        };
        Input {
            ident: &node.ident,
            generics: &node.generics,
            attrs: attr::get(&node.attrs, cx),
            shape,
        }
    }

    /// Returns the value of the `user_type` column, the struct's name by default.
    pub(crate) fn user_type(&self) -> String {
        match &self.attrs.user_type {
            Some(user_type) => user_type.value(),
            None => self.ident.unraw().to_string(),
        }
    }

    /// Returns the name of the field holding the user's key, `id` by default.
    pub(crate) fn id_name(&self) -> String {
        match &self.attrs.id {
            Some(id) => id.unraw().to_string(),
            None => "id".to_owned(),
        }
    }

    /// Returns the field holding the user's key, if the struct has one.
    pub(crate) fn id_field(&self) -> Option<&Field<'a>> {
        let Shape::Named(fields) = &self.shape else {
            return None;
        };
        let name = self.id_name();
        fields.iter().find(|field| field.ident.unraw() == name)
    }
}

impl<'a> Field<'a> {
    fn from_syn(node: &'a syn::Field) -> Self {
        Field {
            ident: node.ident.as_ref().expect("named fields have identifiers"),
            ty: &node.ty,
            helper_attrs: node
                .attrs
                .iter()
                .filter(|attr| attr.path().is_ident(attr::ATTRIBUTE))
                .collect(),
        }
    }
}
