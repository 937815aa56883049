-- Reviews are read by assessment (its review history, the re-assessment schedule of a vendor); without an index
-- each such read scanned every review in the city.
CREATE INDEX assessment_reviews_assessment ON assessment_reviews (assessment_id, outcome);
