//! Money in cents: a contract's total value over its term, and amounts written as dollars.

/// Capital plus annual operating cost × term in months / 12, in cents.
///
/// Computed in 128 bits so that no product overflows; a half cent rounds away from zero (up, for the
/// non-negative amounts a request carries). A result beyond `i64` saturates.
pub fn total_contract_value_cents(
    capital_cents: i64,
    annual_operating_cents: i64,
    term_months: u32,
) -> i64 {
    let operating_twelfths = i128::from(annual_operating_cents) * i128::from(term_months);
    let whole = operating_twelfths / 12;
    let remainder = operating_twelfths % 12;
    let operating = if remainder.abs() * 2 >= 12 {
        whole + remainder.signum()
    } else {
        whole
    };
    let total = i128::from(capital_cents) + operating;
    i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
}

/// Dollars and cents with thousands separators: `$120,000.00`, `-$5.00`.
pub fn format_cents(cents: i64) -> String {
    let magnitude = cents.unsigned_abs();
    let dollars = (magnitude / 100).to_string();
    let mut grouped = String::with_capacity(dollars.len() + dollars.len() / 3);
    for (position, digit) in dollars.chars().enumerate() {
        if position > 0 && (dollars.len() - position).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}${grouped}.{:02}", magnitude % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_in_dollars_with_separators() {
        for (cents, written) in [
            (0, "$0.00"),
            (5, "$0.05"),
            (99_999, "$999.99"),
            (100_000, "$1,000.00"),
            (12_000_000, "$120,000.00"),
            (100_000_000_000, "$1,000,000,000.00"),
            (-500, "-$5.00"),
            (i64::MIN, "-$92,233,720,368,547,758.08"),
        ] {
            assert_eq!(format_cents(cents), written);
        }
    }
}
