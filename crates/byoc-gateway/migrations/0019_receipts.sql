-- Providers' delivery receipts (TeleSign's delivery reports) recorded on the outbound row
-- they report on: the report as JSON, and whether it is final (a final receipt is never
-- replaced by a late or repeated earlier one).
ALTER TABLE outbox ADD COLUMN receipt TEXT;
ALTER TABLE outbox ADD COLUMN receipt_final INTEGER NOT NULL DEFAULT 0;
