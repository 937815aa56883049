//! The text forms of the domain's state and kind enums (`in_review`, `remediation_planned`).
//!
//! Each enum derives its text form with strum (`IntoStaticStr` to write it, `EnumString` to read it back,
//! `VariantArray` for the list of its values) from the same `snake_case` rule as its serde and poem-openapi
//! forms, so the one written to the database, the one in the OpenAPI document and the one a client is sent are
//! the same; the tests below hold the three together for every value. The forms are stored and checked by the
//! migrations' constraints (tests/api/states.rs compares them): renaming a variant changes its form, and the tests say so.

use strum::VariantArray;

/// Every text form of `T`, in declaration order, as a refusal lists them: `vendor_cloud, on_premises`.
pub fn one_of<T: VariantArray + Copy + Into<&'static str>>() -> String {
    let forms: Vec<&'static str> = T::VARIANTS.iter().map(|v| (*v).into()).collect();
    forms.join(", ")
}

#[cfg(test)]
pub(crate) mod tests;
