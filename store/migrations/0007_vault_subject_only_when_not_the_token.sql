-- A vault entry's `subject` names the data subject its token belongs to, so that erasing the
-- subject finds all of their tokens. Most entries are the subject's own token (a record's
-- `$subject.id`, tokenized), whose `subject` only repeated the token: a second index over
-- random keys, which cost every insert about as much as the primary key. Such entries now
-- keep `subject` NULL and are found by their token; the index covers the others only.
UPDATE vault SET subject = NULL WHERE subject = token;
DROP INDEX vault_subject;
CREATE INDEX vault_subject ON vault (subject) WHERE subject IS NOT NULL;
