-- The PostgreSQL twin of ../0005_form_index.sql: the collector counts a form's envelopes before
-- it stores one more for a form with `max_responses`; this index keeps that count short.
CREATE INDEX envelopes_form ON envelopes (form);
