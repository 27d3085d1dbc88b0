/*
 * smtp_int.h — shared internals of the session core (smtp.c, smtp_cmd.c,
 * smtp_data.c, smtp_relay.c, smtp_work.c). Not for callers: use smtp.h.
 *
 * Work-area fields (s->wa->...) are touched only where the session is busy
 * (smtp_work_busy), which guarantees an area is lent: assembling a line,
 * with a queued or awaited reply, in a transaction, in DATA.
 */
#ifndef BULWARK_SMTP_INT_H
#define BULWARK_SMTP_INT_H

#include "smtp.h"

/* Queue a local reply (error limit applied; 421/221/... close the session). */
void smtp_q_local(struct smtp_sess *s, enum smtp_reply_id id);
/* Queue a slot awaiting the backend's reply to a forwarded command. */
void smtp_q_backend(struct smtp_sess *s, enum smtp_slot_kind kind, enum smtp_fwd_verb v);
/* Emit every ready reply at the queue head that fits in out. */
void smtp_flush(struct smtp_sess *s, struct smtp_out *out);
/* The i-th queued slot (0 = the oldest). */
struct smtp_slot *smtp_q_at(struct smtp_sess *s, unsigned i);
/* Keep the ready replies, drop what waits for the backend, close with id. */
void smtp_force_close(struct smtp_sess *s, struct smtp_out *out, enum smtp_reply_id id);
/* End of every entry point: flush, drain check, next deadline. */
void smtp_finish(struct smtp_sess *s, uint64_t now, struct smtp_out *out);
/* 1 if a BACKEND or SWALLOW slot is queued. */
int smtp_q_waiting(const struct smtp_sess *s);
/* Replies queued (q1 counts when no area is lent). */
unsigned smtp_q_n(const struct smtp_sess *s);
/* Flushes; 1 if q1 still waits for room (no area lent): an entry point that
 * may queue a reply must then wait for the next call. */
int smtp_q1_busy(struct smtp_sess *s, struct smtp_out *out);
/* smtp_work.c: the largest line limit cfg allows with line_bytes to hold it. */
uint32_t smtp_line_max(const struct smtp_cfg *cfg, size_t line_bytes);
/* smtp_work.c: 1 while the line being assembled holds anything. */
int smtp_line_pending(const struct smtp_sess *s, const struct smtp_work *w);
/* The 64-bit time of a 32-bit stamp taken at most 2^32 - 1 ms before now. */
uint64_t smtp_t64(uint64_t now, uint32_t t);

/* Append a span to out->fwd (merging with the previous one when adjacent). */
void smtp_fwd_span(struct smtp_out *out, const uint8_t *p, size_t n);
/* The same for message body bytes (counted in out->fwd_body). */
void smtp_fwd_body(struct smtp_out *out, const uint8_t *p, size_t n);
/* Copy a command line (content without terminator) + CRLF to the backend. */
void smtp_fwd_line(struct smtp_out *out, const uint8_t *p, size_t n);

/* Begin the next command line (limit from the session's phase); a no-op
 * without a lent area (a fresh area begins one). */
void smtp_line_begin(struct smtp_sess *s);
/* End the current transaction locally (RSET, end of data, backend loss). */
void smtp_txn_reset(struct smtp_sess *s);
/* The backend session is over (abort, loss): the next MAIL relays again. */
void smtp_unrelay(struct smtp_sess *s);

/* smtp_cmd.c: consume command-mode input (at most up to one line end).
 * *wait = 1 when nothing more can be done without further input. */
size_t smtp_cmd_input(struct smtp_sess *s, const uint8_t *p, size_t n, struct smtp_out *out,
		      int *wait);
/* smtp_cmd.c: pregreet input (before the final 220). */
size_t smtp_greet_input(struct smtp_sess *s, const uint8_t *p, size_t n, struct smtp_out *out);

/* smtp_data.c: start a body after the backend's 354. */
void smtp_data_begin(struct smtp_sess *s);
/* smtp_data.c: stream body bytes; returns how many were consumed (stops
 * after the terminator, or early when out->fwd is short of room). */
size_t smtp_data_input(struct smtp_sess *s, const uint8_t *p, size_t n, struct smtp_out *out);

/* Arguments config for smtp_args_* as advertised right now. */
void smtp_args_cfg_of(const struct smtp_sess *s, struct smtp_args_cfg *a);

#endif /* BULWARK_SMTP_INT_H */
