/*
 * relay_msg.h — the messages between workers and relay lcores (DESIGN §1).
 *
 * Per (worker, relay lcore) pair: one SPSC rte_ring each way. A ring entry
 * is a pointer-sized word, either
 *   - a pointer to a struct relay_msg (a pool object: low bit 0), or
 *   - an inline control word (low bit 1): kind, session id and generation
 *     packed by relay_ctl_pack(); no allocation, so a close or an event is
 *     never lost for want of a buffer.
 *
 * Message objects come from two mempools per pair: the worker's ("w2r",
 * allocated by the worker, freed by the relay — or handed back to the
 * worker as a credit, see RELAY_M_CREDIT) and the relay's ("r2w", allocated
 * by the relay, freed by the worker). The rings are sized (relay_ring_size())
 * so that every object of both pools plus the bounded number of control
 * words fit at once: an enqueue never fails by construction (a failure is
 * counted and retried, never dropped).
 *
 * Sessions: sid is the worker's session slot index; gen counts the backend
 * sessions ever opened on that slot (wraps at 2^24). The relay keys its
 * state by (worker, sid) and drops it at the first terminal control
 * (ABORT/QUIT); the worker ignores anything whose gen is not the one of its
 * session's current backend session (a late reply for a slot that was
 * reused). A slot may OPEN again right after a terminal control: the relay
 * processes the ring in order.
 *
 * Ownership: whoever dequeues a message object owns it and must free it
 * (rte_mempool_put to the pool it came from: the pair's wpool or rpool)
 * or pass it on (a credit goes back on the other ring).
 */
#ifndef BULWARK_RELAY_MSG_H
#define BULWARK_RELAY_MSG_H

#include <stddef.h>
#include <stdint.h>

/* A message object, header included; the pools' element size. */
#define RELAY_MSG_SIZE 4096u
#define RELAY_MSG_HDR  32u
#define RELAY_MSG_DATA (RELAY_MSG_SIZE - RELAY_MSG_HDR)

enum relay_kind {
	/* ---- worker -> relay -------------------------------------------- */
	/* object; data: struct relay_open. Starts a backend session: pick a
	 * backend, connect, PROXY header / XCLIENT, replay the EHLO/HELO,
	 * then forward what follows. */
	RELAY_M_OPEN = 1,
	/* object; data: exactly one command line, CRLF included (MAIL, RCPT,
	 * RSET, DATA, NOOP, AUTH ..., or a SASL continuation line when
	 * flags has RELAY_F_SASL). A line longer than RELAY_MSG_DATA (AUTH
	 * and SASL lines, up to 12288 octets on AUTH listeners, RFC 4954
	 * §4) continues in the next CMD objects of the session: an object
	 * that does not end with LF is continued by the next one.
	 * The core guarantees no bare CR or LF inside. The relay may refuse it itself when the
	 * backend lacks a capability the line uses (it then queues a reply
	 * of its own in command order, see relay.h) and serialises command
	 * lines when the backend lacks PIPELINING. */
	RELAY_M_CMD,
	/* object; data: message body bytes after a 354, already in wire form
	 * (dot-stuffed). RELAY_F_DATA_END: these bytes end with the final
	 * "\r\n.\r\n" (the only way a final dot is ever sent). */
	RELAY_M_BODY,
	/* control: close the backend connection now, after nothing more (no
	 * final dot, no QUIT). Terminal. */
	RELAY_M_ABORT,
	/* control: send "QUIT\r\n" after everything forwarded so far, read
	 * the 221 (bounded wait), close. No reply reaches the worker.
	 * Terminal. */
	RELAY_M_QUIT,

	/* ---- relay -> worker -------------------------------------------- */
	/* object (relay pool); data: one complete backend reply, every line
	 * CRLF-terminated, as smtp_backend_reply() wants it; in command
	 * order, one per forwarded RELAY_M_CMD / final dot. */
	RELAY_M_REPLY,
	/* control; arg: enum smtp_backend_ev (READY, NONE, BUSY, GONE). At
	 * most one READY, then at most one of NONE/BUSY/GONE, per gen. */
	RELAY_M_EVENT,
	/* object (the worker's own, handed back): the relay has written a
	 * RELAY_M_CMD/RELAY_M_BODY object to the backend socket (or dropped
	 * it after ABORT/QUIT or a dead backend); the worker frees it and
	 * counts the session's bytes in flight down by len. This is the
	 * worker's flow control (limits.session_mem). A RELAY_M_OPEN object
	 * comes back too, as soon as the relay has read it, with len 0.
	 * Objects that no longer match a backend session (another gen, a
	 * session that ended) come back at once. */
	RELAY_M_CREDIT,

	RELAY_M_COUNT
};

#define RELAY_F_DATA_END 0x01u /* RELAY_M_BODY: ends with the final dot */
#define RELAY_F_SASL     0x02u /* RELAY_M_CMD: a SASL continuation line */

struct relay_msg {
	uint32_t sid;   /* session slot index in the worker */
	uint32_t gen;   /* backend session generation (24 bits used) */
	uint8_t kind;   /* enum relay_kind */
	uint8_t flags;  /* RELAY_F_* */
	uint16_t len;   /* bytes used in data[] */
	uint16_t w;     /* worker index (the pair's worker) */
	uint16_t pad;
	struct relay_msg *next; /* free for the current owner's own lists */
	uint64_t pad2;
	uint8_t data[RELAY_MSG_DATA];
};

/* The longest TLS version and cipher names relay_open carries. */
#define RELAY_TLS_VERSION_MAX 15u
#define RELAY_TLS_CIPHER_MAX  63u

/* The contents of RELAY_M_OPEN. Addresses and ports in network order. */
struct relay_open {
	uint32_t client_addr, local_addr;
	uint16_t client_port, local_port;
	uint8_t ehlo;     /* 1: replay EHLO, 0: HELO */
	uint8_t listener; /* index in cfg->listeners */
	uint8_t tls;      /* the client's session is under TLS (issue 5) */
	uint8_t helo_len;
	uint8_t helo[255]; /* the client's own EHLO/HELO argument */
	/* with tls: the protocol version ("TLSv1.3") and OpenSSL's cipher
	 * name, NUL-terminated (cut to fit), for PROXY v2's SSL TLVs */
	char tls_version[RELAY_TLS_VERSION_MAX + 1];
	char tls_cipher[RELAY_TLS_CIPHER_MAX + 1];
};

/* ---- inline control words ------------------------------------------------ */

/* Packs a control: bit 0 = 1, kind in bits 1..5, arg in bits 6..9, gen in
 * bits 10..33 (24 bits), sid in bits 34..63 (30 bits). */
static inline uintptr_t relay_ctl_pack(uint8_t kind, uint32_t sid, uint32_t gen, uint8_t arg)
{
	return (uintptr_t)1u | ((uintptr_t)(kind & 0x1fu) << 1) | ((uintptr_t)(arg & 0xfu) << 6) |
	       ((uintptr_t)(gen & 0xffffffu) << 10) | ((uintptr_t)(sid & 0x3fffffffu) << 34);
}

/* Returns 1 when the ring entry e is a control word (else a relay_msg *). */
static inline int relay_is_ctl(uintptr_t e)
{
	return (int)(e & 1u);
}

static inline uint8_t relay_ctl_kind(uintptr_t e)
{
	return (uint8_t)((e >> 1) & 0x1fu);
}

static inline uint8_t relay_ctl_arg(uintptr_t e)
{
	return (uint8_t)((e >> 6) & 0xfu);
}

static inline uint32_t relay_ctl_gen(uintptr_t e)
{
	return (uint32_t)((e >> 10) & 0xffffffu);
}

static inline uint32_t relay_ctl_sid(uintptr_t e)
{
	return (uint32_t)(e >> 34);
}

/* Generations are 24-bit: the next one after g. */
static inline uint32_t relay_gen_next(uint32_t g)
{
	return (g + 1u) & 0xffffffu;
}

/*
 * Entries each ring of a pair must hold so that no enqueue can fail:
 * w2r: the worker's objects plus one terminal control per OPEN in the ring
 * or per open backend session (<= pool_objs + n_sess); r2w: credits and
 * replies (both pools) plus two events per backend session the relay can
 * have processed since the worker last looked (<= 2 (pool_objs + n_sess)).
 * Rounded up to a power of two.
 */
static inline uint32_t relay_ring_size(uint32_t pool_objs, uint32_t n_sess)
{
	uint64_t need = 4ull * pool_objs + 4ull * n_sess + 64u;
	uint32_t r = 64;

	while (r < need && r < (1u << 30))
		r <<= 1;
	return r;
}

#endif /* BULWARK_RELAY_MSG_H */
