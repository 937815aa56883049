//! Webhook deliveries: which one an admin may send again.

use super::Refusal;
use crate::domain::problems::ProblemCode;
use crate::domain::webhooks::DeliveryStatus;

/// A delivery is sent again only once it has been dead-lettered: a pending one is still being tried, and a
/// delivered one arrived.
pub fn plan_retry(status: DeliveryStatus) -> Result<(), Refusal> {
    if status == DeliveryStatus::Dead {
        Ok(())
    } else {
        Err(Refusal::conflict(
            ProblemCode::DeliveryNotDead,
            format!(
                "the delivery is {}; only a dead-lettered delivery is retried",
                status.as_str()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_dead_lettered_delivery_is_retried() {
        assert_eq!(plan_retry(DeliveryStatus::Dead), Ok(()));
        for status in [DeliveryStatus::Pending, DeliveryStatus::Delivered] {
            let refused = plan_retry(status).unwrap_err();
            assert_eq!(refused.code(), "delivery_not_dead");
            assert!(refused.to_string().contains(status.as_str()), "{refused}");
        }
    }
}
