-- Up Migration

-- Where administrators asked to be told of events. The secret signs every
-- delivery (Standard Webhooks: whsec_ and base64 of the key); a receiver
-- holds the same one to verify, so it is kept as given, never hashed.
CREATE TABLE webhook_endpoints (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  url        text NOT NULL CHECK (length(url) <= 2048),
  events     text[] NOT NULL CHECK (cardinality(events) > 0),
  secret     text NOT NULL,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One event for one endpoint: written in the transaction of the change it
-- reports (the queue's job with it), so a crash after the commit loses
-- nothing. Its id is the webhook-id receivers deduplicate on.
CREATE TABLE webhook_deliveries (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  endpoint_id        uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_type         text NOT NULL,
  payload            jsonb NOT NULL,
  status             text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts           integer NOT NULL DEFAULT 0,
  last_response_code integer,
  last_error         text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  last_attempt_at    timestamptz,
  next_attempt_at    timestamptz DEFAULT now()
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);

-- Down Migration

DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
-- The delivery queue's own schema (graphile-worker installs it after our migrations).
DROP SCHEMA IF EXISTS graphile_worker CASCADE;
