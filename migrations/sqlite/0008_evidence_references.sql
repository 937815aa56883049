-- The evidence reference a vendor gives with an answer ("SOC 2 report, section 4"): typed in the workbook's
-- Evidence reference column or sent with the answer over the API, kept beside the comment.
ALTER TABLE answers ADD COLUMN evidence_ref TEXT;
