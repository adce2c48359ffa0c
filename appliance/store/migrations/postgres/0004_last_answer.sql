-- Schema version 4: duplicate detection keeps the last answer of each session, not every answer.
-- A retransmission can only be of a session's latest request (a client has one request of a
-- session outstanding at a time), so one row per session, replaced by each new request, answers it.  A
-- final answer (a session's end, an event, a refund, a debit) is kept for the retransmission
-- window (charging.event_answer_ttl); an open session's for charging.request_log_ttl after its
-- last request.  Answers remembered by key before this version are not carried over.
CREATE TABLE last_answer (
    session_id TEXT COLLATE "C" PRIMARY KEY, key TEXT COLLATE "C" NOT NULL, created BIGINT NOT NULL,
    result TEXT NOT NULL, final SMALLINT NOT NULL);
CREATE INDEX last_answer_final_created ON last_answer (final, created);
DROP TABLE request_log;
