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

/* Closes se gracefully: at once (returns -1: se is freed) or, with
 * replies parked, once they are out (SESS_F_CLOSE; returns 1). */
int sess_close_soon(struct worker *w, struct sess *se, uint64_t now);

/* Ends se at once: FIN after what is queued (sess_close) or RST (hard,
 * counted as ovf_lost: sess_abort). se is freed. */
void sess_end(struct worker *w, struct sess *se, uint64_t now, int hard);

/* Gives se a parking buffer (empty: it marks ciphertext waiting in the
 * TLS queue) unless it has one. Returns 0, or -1 when none was left (se
 * aborted and freed). */
int sess_park_hold(struct worker *w, struct sess *se, uint64_t now);

/* ---- sess_limit.c ---------------------------------------------------------- */

/* A session from addr (network order) starts: the deny list, the allow
 * list, then the per-client limits (se is counted when admitted). Returns
 * SMTP_R_NONE (admitted), SMTP_R_DENIED or SMTP_R_CLIENT_LIMIT. */
int sess_admit(struct worker *w, struct sess *se, uint32_t addr, uint64_t now);

/* accept_proxy listener li: se (from TCP peer raddr) waits for the PROXY
 * header with a deadline. Returns 0, or -1 when raddr is not in the
 * listener's proxy_from (the caller closes se). */
int sess_proxy_wait(struct worker *w, struct sess *se, uint8_t li, uint32_t raddr, uint64_t now);

/* 1 while se waits for its PROXY header. */
int sess_proxy_waiting(const struct worker *w, const struct sess *se);

/* Offers the connection's first bytes p[0..len) to the PROXY parser.
 * Returns the header's length (the session may begin: *li and *addr, the
 * client's address, are set), 0 to wait for more, or -1 when it is not a
 * header (se was closed and freed). */
long sess_proxy_recv(struct worker *w, struct sess *se, const uint8_t *p, size_t len, uint8_t *li,
		     uint32_t *addr, uint64_t now);

/* The client's address and port (network order) as every limit and the
 * relay see them: a PROXY header's source, else the TCP peer; and the
 * local ones. */
void sess_client(const struct worker *w, const struct sess *se, uint32_t *raddr, uint16_t *rport,
		 uint32_t *laddr, uint16_t *lport);

/* se closes for non-SMTP input or pregreet: one more error for its address
 * (a bit in se, charged by sess_limit_end). */
void sess_limit_junk(struct worker *w, struct sess *se);

/* se ends: its address's session count goes down, its errors are charged.
 * Needs se->c (the client's address): up_closed calls it before the handle
 * goes; later calls do nothing. */
void sess_limit_end(struct worker *w, struct sess *se);

/* net_ops.syn_filter: with client_limits.action = "drop", 1 for a SYN
 * from an address over its limit (arg: the struct wport). */
int sess_syn_filter(void *arg, uint32_t raddr, uint16_t lport, uint64_t now);

/* ---- sess_tls.c ------------------------------------------------------------ */

/* se's TLS side while it has a TLS session, else NULL. */
struct sess_tls *sess_tls_of(const struct worker *w, const struct sess *se);

/* 1 when a handshake may not start now (tls.max_handshakes), else 0. */
int sess_tls_busy(const struct worker *w);

/* Starts the TLS session of se on listener li (implicit: before the core
 * starts; else after the core's 220 to STARTTLS), arms the handshake
 * deadline. Returns 0, or -1 (at the cap, or no memory: counted; the
 * caller closes se). */
int sess_tls_start(struct worker *w, struct sess *se, uint8_t li, int implicit, uint64_t now);

/* ops->recv for a session with TLS: ciphertext in, plaintext to the core.
 * Returns the bytes consumed (len when se closed or ended). */
size_t sess_tls_recv(struct worker *w, struct sess *se, const uint8_t *p, size_t len, uint64_t now);

/* Offers the decrypted bytes waiting in se's TLS session to the core
 * (after se was blocked). Returns -1 when se closed or ended, else 0. */
int sess_tls_pump(struct worker *w, struct sess *se, uint64_t now);

/* Encrypts a reply and sends it (ciphertext the flow cannot take waits in
 * the TLS queue; se then holds a parking buffer). Dropped while no TLS
 * data can be sent. Returns 0, or -1 when se was aborted. */
int sess_tls_send(struct worker *w, struct sess *se, const uint8_t *p, size_t n, uint64_t now);

/* Sends queued ciphertext (writable). Returns 1 when none is left. */
int sess_tls_unpark(struct worker *w, struct sess *se, uint64_t now);

/* Before a graceful close: close_notify, sent if the flow takes it. */
void sess_tls_close(struct worker *w, struct sess *se, uint64_t now);

/* se ends: its TLS session is freed. */
void sess_tls_put(struct worker *w, struct sess *se);

/* The session timer fired: the handshake deadline? Then se is closed and
 * 1 returned; else 0. */
int sess_tls_fire(struct worker *w, struct sess *se, uint64_t now);

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
