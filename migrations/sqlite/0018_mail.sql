-- E-mail notifications (issue #18). Events are notifications too, made in the transaction of the change that
-- causes them; the job runner then fans each new notification out to the outbox: one row per webhook URL and
-- one per e-mail address. Notifications made before this migration were fanned out already.
ALTER TABLE notifications ADD COLUMN fanned_out INTEGER NOT NULL DEFAULT 1 CHECK (fanned_out IN (0, 1));
CREATE INDEX notifications_to_fan_out ON notifications (created_at) WHERE fanned_out = 0;

-- One outbox for both channels: a webhook row's url is the receiver's URL, an e-mail row's is mailto:ADDRESS.
-- An e-mail keeps its Message-ID across retries; a digest row waits for the daily digest and is sent in one
-- message with the address's other digest rows.
ALTER TABLE webhook_deliveries ADD COLUMN channel TEXT NOT NULL DEFAULT 'webhook' CHECK (channel IN ('webhook', 'email'));
ALTER TABLE webhook_deliveries ADD COLUMN message_id TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN digest INTEGER NOT NULL DEFAULT 0 CHECK (digest IN (0, 1));
CREATE INDEX webhook_deliveries_channel_due ON webhook_deliveries (channel, status, next_attempt_at);
