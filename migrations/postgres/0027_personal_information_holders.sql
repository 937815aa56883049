-- Whether a request puts personal information of Massachusetts or Connecticut residents (`pi_ma`, `pi_ct`) with its
-- vendor, kept beside the fields it is read from (issue #21): the re-assessment schedule of a page of vendors asked
-- every live request of those vendors for its JSON fields and parsed each one to find out.
ALTER TABLE requests ADD COLUMN holds_personal_information BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE requests SET holds_personal_information = TRUE
WHERE fields -> 'data_classes' @> '["pi_ma"]'::jsonb OR fields -> 'data_classes' @> '["pi_ct"]'::jsonb;

-- The schedule's question: which of these vendors hold personal information in a live request.
CREATE INDEX requests_personal_information_holders ON requests (vendor_id, status)
    WHERE holds_personal_information;
