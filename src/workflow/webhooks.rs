//! Webhook deliveries: which one an admin may send again.

use super::Refusal;
use crate::domain::problems::ProblemCode;

/// A delivery is sent again only once it has been dead-lettered: a pending one is still being tried, and a
/// delivered one arrived.
pub fn plan_retry(status: &str) -> Result<(), Refusal> {
    if status == "dead" {
        Ok(())
    } else {
        Err(Refusal::conflict(
            ProblemCode::DeliveryNotDead,
            format!("the delivery is {status}; only a dead-lettered delivery is retried"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_dead_lettered_delivery_is_retried() {
        assert_eq!(plan_retry("dead"), Ok(()));
        for status in ["pending", "delivered"] {
            let refused = plan_retry(status).unwrap_err();
            assert_eq!(refused.code(), "delivery_not_dead");
            assert!(refused.to_string().contains(status), "{refused}");
        }
    }
}
