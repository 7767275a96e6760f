-- `max_responses`: the collector counts a form's envelopes before it stores one more, with the
-- write lock held; this index makes that count a short range scan instead of a table scan.
CREATE INDEX envelopes_form ON envelopes (form);
