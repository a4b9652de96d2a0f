-- Head-counts: the distinct data subjects (tokens) each region transferred to each
-- destination jurisdiction in each calendar year (UTC, from the entry's timestamp), one row
-- per subject, written with the log entries that sent them. Thresholds count and look up
-- subjects here. It replaces the log's index on `subject`, which every append extended with
-- one entry per record at a random place: a 1,000-record read dirtied about a thousand index
-- pages, more as the log grew. A subject already counted this year costs a lookup, no write.
-- Finding a subject's transfers (`dss dsr access`, `audit query --subject`) reads the log in
-- order; it never used that index. `transfer_subject_counts` keeps each head-count, so that
-- reading one does not count a million rows.
CREATE TABLE transfer_subjects (
    region             TEXT NOT NULL,
    dest_jurisdiction  TEXT NOT NULL,
    year               TEXT NOT NULL,
    subject            TEXT NOT NULL,
    PRIMARY KEY (region, dest_jurisdiction, year, subject)
);
INSERT INTO transfer_subjects (region, dest_jurisdiction, year, subject)
SELECT DISTINCT region, dest_jurisdiction, SUBSTR(ts, 1, 4), subject
FROM transfer_log WHERE decision = 'transfer' AND subject IS NOT NULL;
CREATE TABLE transfer_subject_counts (
    region             TEXT   NOT NULL,
    dest_jurisdiction  TEXT   NOT NULL,
    year               TEXT   NOT NULL,
    subjects           BIGINT NOT NULL,
    PRIMARY KEY (region, dest_jurisdiction, year)
);
INSERT INTO transfer_subject_counts (region, dest_jurisdiction, year, subjects)
SELECT region, dest_jurisdiction, year, COUNT(*) FROM transfer_subjects
GROUP BY region, dest_jurisdiction, year;
DROP INDEX transfer_log_subject;
