/*
 * sess_int.h — what the session glue's two files (sess.c, sess_relay.c)
 * share; nothing outside them includes it.
 */
#ifndef BULWARK_SESS_INT_H
#define BULWARK_SESS_INT_H

#include <stddef.h>
#include <stdint.h>

struct worker;
struct sess;

#define SESS_F_CLOSE 0x01u /* close once the parked replies are out */
#define SESS_F_MORE  0x02u /* the core has queued replies: call it with n == 0 */
#define SESS_F_FIN   0x04u /* the client sent FIN */
#define SESS_F_PAUSE 0x08u /* the core waits for the backend */
#define SESS_F_LWAIT 0x10u /* waits in the FIFO for a work area */
#define SESS_F_RWAIT 0x20u /* waits in a FIFO for relay message objects */
#define SESS_F_CWAIT 0x40u /* waits for credit: limits.session_mem in flight */

/*
 * Carries out what the last core call left in w->out and resets it.
 * Returns 0 while the session reads on, 1 when it is closing (replies
 * still parked), -1 when it ended (se is freed).
 */
int sess_carry(struct worker *w, struct sess *se, uint64_t now);

/*
 * Offers p[0..n) (n may be 0: queued replies only) to the core until it
 * has taken what it can. Returns the bytes consumed, or SIZE_MAX when the
 * session closed or ended.
 */
size_t sess_feed(struct worker *w, struct sess *se, const uint8_t *p, size_t n, uint64_t now);

/* The client half-closed and everything it sent was answered: closes se
 * and returns 1; else 0. */
int sess_fin_done(struct worker *w, struct sess *se, uint64_t now);

/* ---- sess_relay.c ---------------------------------------------------------- */

/* Before smtp_input() with n client bytes: returns how many may be offered
 * (0: se stops reading and waits, SESS_F_RWAIT; the relay link resumes
 * it). Sessions without a relay, or that cannot forward, get n. */
size_t sess_relay_admit(struct worker *w, struct sess *se, size_t n);

/* Hands w->out's forwarded bytes and relay actions to the relay (before
 * sess_carry resets w->out); SMTP_ACT_RELAY without relay lcores answers
 * SMTP_BACKEND_NONE. Returns 1 when the core must hear an event first
 * (*ev set: the caller resets w->out and calls smtp_backend_event). */
int sess_relay_carry(struct worker *w, struct sess *se, uint64_t now, int *ev);

/* se ends: its backend session is aborted (never a final dot), its queued
 * replies freed. */
void sess_relay_end(struct worker *w, struct sess *se);

/* Gives se's core the backend replies (then the event) queued for it while
 * nothing is parked for the client. Returns -1 when se ended, else 0. */
int sess_relay_deliver(struct worker *w, struct sess *se, uint64_t now);

/* The listener index for a connection to laddr (network order):lport
 * (host order), or UINT8_MAX. */
uint8_t sess_listener(const struct worker *w, uint32_t laddr, uint16_t lport);

#endif /* BULWARK_SESS_INT_H */
