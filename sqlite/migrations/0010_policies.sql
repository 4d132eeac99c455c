-- SSM parameter policies of each version: a JSON array of policies
-- (Expiration, ExpirationNotification, NoChangeNotification), '' for none.
ALTER TABLE versions ADD COLUMN policies TEXT NOT NULL DEFAULT '';
