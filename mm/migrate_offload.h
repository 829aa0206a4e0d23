/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interface of migration copy offload: the hooks mm/migrate.c calls
 * and what the registry (migrate_copy_offload.c), health, the split, the
 * data path (migrate_offload_sched.c) and sysfs share.
 */
#ifndef _MM_MIGRATE_OFFLOAD_H
#define _MM_MIGRATE_OFFLOAD_H

#include <linux/jump_label.h>
#include <linux/migrate_copy_offload.h>

#ifdef CONFIG_MIGRATION_COPY_OFFLOAD
#include <linux/atomic.h>
#include <linux/kobject.h>
#include <linux/migrate_mode.h>
#include <linux/mmzone.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/workqueue.h>

#define MO_MAX_MIGRATORS	16
#define MO_NR_ORDERS		NR_PAGE_ORDERS
#define MO_ALL_REASONS		GENMASK(MR_TYPES - 1, 0)
#define MO_ALL_ORDERS		GENMASK(MO_NR_ORDERS - 1, 0)
/* Throughputs are measured per size class of a call: see mo_tp_class(). */
#define MO_TP_CLASSES		4
/* Weights range over 1..255, as those of weighted interleave. */
#define MO_WEIGHT_MAX		255

/* Counters of a migrator, of all batches and of each migration reason. */
enum mo_stat {
	MO_STAT_BATCHES,	/* sub-batches run (global, reason: batches) */
	MO_STAT_FOLIOS,		/* folios copied */
	MO_STAT_BYTES,		/* bytes copied */
	MO_STAT_ERRORS,		/* failed sub-batches */
	MO_STAT_DECLINED,	/* sub-batches declined: busy, no memory */
	MO_STAT_FALLBACK,	/* folios of failed sub-batches */
	MO_STAT_HELD,		/* folios whose destination a migrator held */
	MO_STAT_VERIFY,		/* folios found wrong by verify */
	MO_STAT_BUSY_NS,	/* time spent in offload_copy() */
	MO_STAT_CPU,		/* global, reason: left to the per-folio copy */
	MO_STAT_SHARED,		/* global, reason: copied by the caller's CPU */
	MO_NR_STATS
};

/* Per CPU: the data path of every CPU adds without sharing a cache line. */
struct mo_stats {
	long v[MO_NR_STATS];
};

static inline void mo_stat_add(struct mo_stats __percpu *s, enum mo_stat i,
			       long n)
{
	this_cpu_add(s->v[i], n);
}

long mo_stat_read(struct mo_stats __percpu *s, enum mo_stat i);
long mo_stat_total(enum mo_stat i);

/* What the administrator tunes per migrator; under mo_lock. */
struct mo_params {
	int priority;
	bool enabled;
	unsigned long reasons;		/* subset of the capability */
	unsigned long orders;		/* subset of the capability */
	unsigned int min_batch_pages;
	unsigned int weight;		/* 1..MO_WEIGHT_MAX */
	unsigned int verify;		/* compare every Nth folio; 0: off */
};

/*
 * Health of a migrator: taken out after mo_max_failures consecutive failed
 * sub-batches, re-admitted on probation after a back-off, back to ok once
 * a probation sub-batch (one folio) succeeds.
 */
enum mo_health {
	MO_HEALTH_OK,
	MO_HEALTH_PROBATION,
	MO_HEALTH_OUT,
};

/* The core's state of one registered migrator. */
struct mo_entry {
	struct migrator *m;		/* only inside a call, see users */
	char name[MIGRATOR_NAME_LEN];	/* @m's, for batches after the stop */
	struct list_head node;		/* on mo_entries, under mo_lock */
	struct kobject kobj;		/* migrators/<name>/; frees the entry */
	struct rcu_head rcu;		/* the last put, after older batches */
	atomic_t users;			/* calls into @m, +1 while registered */
	bool registered;		/* under mo_lock */
	unsigned long cap_reasons, cap_orders;
	nodemask_t nodes;		/* local to; all if it declared none */
	struct mo_params params;	/* under mo_lock */
	int health;			/* enum mo_health, under health_lock */
	spinlock_t health_lock;
	atomic_t consecutive_errors;
	atomic_t probing;		/* a batch holds the probation folio */
	unsigned int backoff_ms;	/* of the last taking-out */
	unsigned long out_until;	/* jiffies: end of the back-off */
	unsigned long admitted;		/* jiffies of the last re-admission */
	unsigned int relapses;		/* out again before forgiven */
	struct delayed_work readmit_work;
	atomic_long_t throughput;	/* bytes per busy us, decayed average */
	atomic_long_t class_tp[MO_TP_CLASSES];	/* ... per mo_tp_class() */
	atomic_long_t vtime;		/* virtual clock of the split, mo_pick() */
	atomic_long_t copied;		/* folios reported copied, for verify */
	atomic_t slow_rounds;		/* see mo_sub_limits() */
	struct mo_stats __percpu *stats;
};

enum mo_split {
	MO_SPLIT_WEIGHT,	/* equal priorities share by weight */
	MO_SPLIT_ADAPTIVE,	/* ... by measured throughput */
};

/* Among equal priorities, prefer migrators local to a folio's ... node. */
enum mo_locality {
	MO_LOCALITY_NONE,
	MO_LOCALITY_DST,	/* destination */
	MO_LOCALITY_SRC,	/* source */
};

/* What the migrating CPU copies of a batch migrators take. */
enum mo_cpu_copy {
	MO_CPU_SHARE,		/* what no migrator has claimed yet */
	MO_CPU_FALLBACK,	/* only what the migrators failed to copy */
};

/* Policy per migration reason; under mo_lock. */
struct mo_reason_policy {
	unsigned int min_batch_pages;	/* smaller batches stay on the CPU */
	enum mo_split split;
	enum mo_locality locality;
	enum mo_cpu_copy cpu_copy;
};

/*
 * The policy table: immutable once published in mo_table, read by the data
 * path under migrate_offload_srcu, freed an SRCU grace period after it was
 * replaced.  Slots are sorted by priority, highest first; route[][] holds
 * for each reason and folio order the bitmap of slots serving it.
 */
struct mo_table {
	struct rcu_head rcu;
	unsigned int nr;
	struct mo_slot {
		struct mo_entry *e;
		int priority;
		u16 level;		/* the slots of its priority */
		unsigned int weight;
		unsigned int min_batch_pages;
	} slot[MO_MAX_MIGRATORS];
	u16 limited;			/* slots of min_batch_pages > 1 */
	u16 route[MR_TYPES][MO_NR_ORDERS];
	struct mo_reason_policy reason[MR_TYPES];
};

DECLARE_STATIC_KEY_FALSE(migrate_offload_key);
extern struct srcu_struct migrate_offload_srcu;
extern struct mo_table __rcu *mo_table;
extern unsigned long mo_batch_orders[MR_TYPES];
extern unsigned int mo_max_failures;
extern unsigned int mo_backoff_min_ms, mo_backoff_max_ms;
DECLARE_PER_CPU(struct mo_stats, mo_reason_stats[MR_TYPES]);
extern struct workqueue_struct *mo_wq;
extern atomic_long_t mo_cpu_throughput[MO_TP_CLASSES];

/* Registry (migrate_copy_offload.c) */
extern struct mutex mo_lock;
extern struct list_head mo_entries;
extern bool mo_enabled;
extern struct mo_reason_policy mo_reasons[MR_TYPES];
int mo_table_rebuild(void);
extern struct work_struct mo_rebuild_work;
enum mo_param {
	MO_PARAM_PRIORITY,
	MO_PARAM_ENABLED,
	MO_PARAM_REASONS,
	MO_PARAM_ORDERS,
	MO_PARAM_MIN_BATCH,
	MO_PARAM_WEIGHT,
	MO_PARAM_VERIFY,
};

int mo_entry_set(struct mo_entry *e, enum mo_param which, long val);
int mo_set_enabled(bool on);
enum mo_reason_param {
	MO_REASON_MIN_BATCH,
	MO_REASON_SPLIT,
	MO_REASON_LOCALITY,
	MO_REASON_CPU_COPY,
};

int mo_set_reason_policy(int reason, enum mo_reason_param which,
			 unsigned int val);

/* Folios linked through ->lru in two lists walked in lockstep. */
struct mo_pairs {
	struct list_head src;
	struct list_head dst;
	unsigned int nr;
	unsigned long pages;
};

/*
 * A sub-batch: the pairs assigned to one migrator, cut into chunks for the
 * run; after it, those that failed, and the first error.  The migrator
 * claims chunks from the head, the migrating CPU from the tail: @claim
 * holds the next chunk of the head in its low 16 bits and the end of the
 * unclaimed ones above, in units of MO_CLAIM_END.  @ratio is in
 * 1/MO_RATIO_ONE of a chunk.
 */
#define MO_CLAIM_END		0x10000
#define MO_RATIO_ONE		16

struct mo_sub {
	struct mo_pairs pairs;
	struct mo_entry *e;
	int ret;
	unsigned int first, chunks;	/* its chunks in mo_batch.chunk[] */
	unsigned int keep, ratio;	/* see mo_sub_limits() */
	unsigned int tp_class;		/* mo_tp_class() of its first chunk */
	bool paced;			/* ratio follows each measurement */
	atomic_t claim;
	struct mo_batch *batch;
	struct work_struct work;
};

/* The pairs one call copies: a migrator's, or the migrating CPU's. */
struct mo_chunk {
	struct mo_pairs pairs;
	int ret;
	bool cpu;
};

/*
 * A round's chunks: where the migrating CPU shares, a sub-batch is cut
 * into chunks of at least MO_CHUNK_PAGES base pages (256 KiB), so that
 * the CPU can take part of a batch of small folios, and of few enough
 * calls that each amortises a migrator's cost per call.
 */
#define MO_MAX_CHUNKS		64
#define MO_CHUNK_PAGES		64UL

/* The state of one batch in migrate_offload_copy_batch(). */
struct mo_batch {
	const struct mo_table *t;
	int reason;
	unsigned long excluded;		/* slots that failed in this batch */
	unsigned long competed;		/* slots a folio could go to */
	unsigned long probe;		/* slots on probation: one folio */
	unsigned long measure;		/* slots to be measured (slow ones) */
	unsigned int subs;		/* sub-batches run */
	unsigned long started;		/* slots whose sub-batch started */
	unsigned long weight[MO_MAX_MIGRATORS];	/* 1..MO_VT_ONE */
	unsigned long vt[MO_MAX_MIGRATORS];	/* virtual clocks */
	unsigned long charged[MO_MAX_MIGRATORS];	/* by this batch */
	unsigned long largest;		/* base pages of its largest folio */
	u8 rank[MO_MAX_MIGRATORS];	/* slots in mo_pick() order */
	bool share;			/* the migrating CPU claims chunks */
	unsigned int shared;		/* folios the migrating CPU copied */
	struct mo_chunk chunk[MO_MAX_CHUNKS];
	struct mo_sub sub[];		/* one per table slot, once started */
};

/* The split (migrate_offload_split.c) */
void mo_pairs_move(struct mo_pairs *from, struct mo_pairs *to,
		   struct folio *src, struct folio *dst);
void mo_split_begin(struct mo_batch *b);
unsigned long mo_split_assign(struct mo_batch *b, struct mo_pairs *from,
			      bool first);
void mo_split_uncharge(struct mo_batch *b, unsigned int i, unsigned long pages);
void mo_split_end(struct mo_batch *b);

#if IS_ENABLED(CONFIG_KUNIT)
int mo_claim(struct mo_sub *s, bool tail);
#endif

/* Health (migrate_offload_health.c) */
extern const char * const mo_health_names[MO_HEALTH_OUT + 1];
void mo_health_out(struct mo_entry *e);
void mo_health_account(struct mo_entry *e, int ret);
void mo_readmit_workfn(struct work_struct *work);
int mo_set_health(struct mo_entry *e, enum mo_health health);
int mo_set_health_param(unsigned int *param, unsigned int val);
int mo_verify(struct mo_entry *e, struct mo_pairs *p);

/* A busy engine or no memory is no sign of a failing migrator. */
static inline bool mo_declined(int ret)
{
	return ret == -EBUSY || ret == -ENOMEM;
}

/* sysfs (migrate_offload_sysfs.c) */
extern const struct attribute_group *mo_entry_groups[];
int mo_sysfs_add_entry(struct mo_entry *e);
void mo_sysfs_del_entry(struct mo_entry *e);
int mo_parse_reasons(const char *buf, unsigned long cap, unsigned long *out);
int mo_parse_orders(const char *buf, unsigned long cap, unsigned long *out);
int __init mo_sysfs_init(void);

/* True while a migrator can take folios: the only cost when none can. */
static inline bool migrate_offload_active(void)
{
	return static_branch_unlikely(&migrate_offload_key);
}

/* BIT(order) of the folio orders some migrator copies for @reason. */
static inline unsigned long migrate_offload_batch_orders(int reason)
{
	return READ_ONCE(mo_batch_orders[reason]);
}

int folios_mc_copy(struct list_head *dst_list, struct list_head *src_list,
		   unsigned int nr);
unsigned int migrate_offload_copy_batch(int reason, struct list_head *dst_list,
					struct list_head *src_list,
					unsigned int nr, unsigned int skipped,
					unsigned int *held);
#else
/* migrate.c calls the rest only #ifdef CONFIG_MIGRATION_COPY_OFFLOAD. */
static inline bool migrate_offload_active(void)
{
	return false;
}
#endif /* CONFIG_MIGRATION_COPY_OFFLOAD */

#endif /* _MM_MIGRATE_OFFLOAD_H */
