// SPDX-License-Identifier: GPL-2.0
/*
 * Arbitration of page migration copy offload: which migrator copies which
 * folio of a batch.  Each folio goes to the highest-priority migrator that
 * serves the batch's reason and the folio's order, is healthy, and is
 * offered at least its minimum batch; the locality policy of the reason
 * narrows the choice to migrators local to the folio where there are any.
 *
 * Equal priorities share by weight, as start-time fair queueing: each folio
 * goes to the candidate whose virtual clock is earliest, and serving a
 * folio of p base pages advances the clock by p * MO_VT_ONE / w, w its
 * weight scaled to 1..MO_VT_ONE.  The clocks persist from batch to batch,
 * so that batches of one folio (a THP is a batch of its own) are shared by
 * weight too.  Two rules bound the drift: a migrator that could take no
 * folio of a batch (an order or a reason it does not serve, locality,
 * health) neither gains nor loses, its clock is carried along to the
 * earliest of those that could; and none enters a batch with more credit
 * over the latest of its competitors than the batch's largest folio.
 * Failed and declined sub-batches, and what the migrating CPU copied of a
 * sub-batch, are not charged.  While two migrators compete, neither gets
 * more than two of the largest folios beyond its weighted share.  In
 * adaptive mode the weights are scaled by measured throughput.
 */
#include <linux/migrate.h>
#include <linux/mm.h>

#include "migrate_offload.h"

/* Move the pair @src, @dst of @from to @to. */
void mo_pairs_move(struct mo_pairs *from, struct mo_pairs *to,
		   struct folio *src, struct folio *dst)
{
	list_move_tail(&src->lru, &to->src);
	list_move_tail(&dst->lru, &to->dst);
	from->nr--;
	to->nr++;
	from->pages -= folio_nr_pages(src);
	to->pages += folio_nr_pages(src);
}

#define MO_VT_ONE		(MO_WEIGHT_MAX * MO_WEIGHT_MAX)

static unsigned long mo_vt_cost(struct mo_batch *b, unsigned int i,
				unsigned long pages)
{
	return pages * MO_VT_ONE / b->weight[i];
}

/* Slot @i serves @pages: its clock advances, charged to the batch. */
static void mo_charge(struct mo_batch *b, unsigned int i, unsigned long pages)
{
	unsigned long cost = mo_vt_cost(b, i, pages);

	b->charged[i] += cost;
	b->vt[i] += cost;
}

/* Raise @e's clock to @to; concurrent batches only ever raise it more. */
static void mo_vt_raise(struct mo_entry *e, unsigned long to)
{
	long old = atomic_long_read(&e->vtime);

	while ((unsigned long)old < to &&
	       !atomic_long_try_cmpxchg(&e->vtime, &old, to))
		;
}

/*
 * The slots of @mask of the priority of slot @i.  Masks of slots are walked
 * up to MO_MAX_MIGRATORS, a constant, not the table's size: find_next_bit()
 * is then inline, where it would be a call for each slot of each batch.
 */
static unsigned long mo_level(struct mo_batch *b, unsigned long mask,
			      unsigned int i)
{
	return mask & b->t->slot[i].level;
}

/*
 * A batch starts from the migrators' clocks, with weights static or, in
 * adaptive mode, scaled by the measured throughput relative to the fastest
 * of the same priority; one not measured yet counts as the fastest, so it
 * gets work and a measurement.  Its sub-batches start when they get their
 * first folio (mo_sub_pairs()): a batch costs little per migrator that
 * gets none of it.
 */
void mo_split_begin(struct mo_batch *b)
{
	const struct mo_table *t = b->t;
	unsigned long all = GENMASK(t->nr - 1, 0), level;
	long tp, best;
	unsigned int i, j;

	for (i = 0; i < t->nr; i++) {
		b->weight[i] = t->slot[i].weight * MO_WEIGHT_MAX;
		b->vt[i] = atomic_long_read(&t->slot[i].e->vtime);
	}
	if (t->reason[b->reason].split != MO_SPLIT_ADAPTIVE)
		return;
	for (i = 0; i < t->nr; i++) {
		level = mo_level(b, all, i);
		best = 0;
		for_each_set_bit(j, &level, MO_MAX_MIGRATORS)
			best = max(best, atomic_long_read(&t->slot[j].e->throughput));
		tp = atomic_long_read(&t->slot[i].e->throughput) ?: best;
		if (best)
			b->weight[i] = t->slot[i].weight *
				clamp_t(long, div64_long((s64)tp * MO_WEIGHT_MAX, best),
					1, MO_WEIGHT_MAX);
	}
}

/* The pairs of slot @i's sub-batch, which starts empty at its first use. */
static struct mo_pairs *mo_sub_pairs(struct mo_batch *b, unsigned int i)
{
	struct mo_sub *s = &b->sub[i];

	if (!(b->started & BIT(i))) {
		b->started |= BIT(i);
		s->e = b->t->slot[i].e;
		s->batch = b;
		s->ret = 0;
		INIT_LIST_HEAD(&s->pairs.src);
		INIT_LIST_HEAD(&s->pairs.dst);
		s->pairs.nr = 0;
		s->pairs.pages = 0;
	}
	return &s->pairs;
}

/* Slot @x is picked before @y: a higher priority, an earlier clock, first. */
static bool mo_before(struct mo_batch *b, unsigned int x, unsigned int y)
{
	if ((b->t->slot[x].level & BIT(y)) && b->vt[x] != b->vt[y])
		return b->vt[x] < b->vt[y];
	return x < y;
}

/* Order the slots for mo_pick(): after a round's clocks changed. */
static void mo_rank(struct mo_batch *b)
{
	unsigned int i, j;

	for (i = 0; i < b->t->nr; i++) {
		for (j = i; j && mo_before(b, i, b->rank[j - 1]); j--)
			b->rank[j] = b->rank[j - 1];
		b->rank[j] = i;
	}
}

/*
 * The highest-priority slot of @mask; among equal priorities, the one whose
 * clock is earliest (start-time fair queueing).  If @ranked (a round of
 * more than one folio), the slots are kept in that order (mo_rank()): the
 * pick is the first of @mask in it, and the slot picked moves back,
 * searched from the end: in equal shares that is one comparison, not one
 * per candidate.  A round of one folio (a THP alone, the common batch) is
 * not worth ordering the slots for: the earliest clock is searched.  All of
 * its priority in @mask competed.
 */
static unsigned int mo_pick(struct mo_batch *b, unsigned long mask,
			    unsigned long pages, bool ranked)
{
	unsigned long level = mo_level(b, mask, __ffs(mask));
	unsigned int best = __ffs(level), k, last;

	b->competed |= level;
	if (!ranked) {
		for_each_set_bit(k, &level, MO_MAX_MIGRATORS)
			if (b->vt[k] < b->vt[best])
				best = k;
		mo_charge(b, best, pages);
		return best;
	}
	k = __ffs(b->t->slot[best].level);
	last = __fls(b->t->slot[best].level);
	while (!(mask & BIT(b->rank[k])))
		k++;
	best = b->rank[k];
	mo_charge(b, best, pages);
	while (last > k && mo_before(b, best, b->rank[last]))
		last--;
	memmove(&b->rank[k], &b->rank[k + 1], last - k);
	b->rank[last] = best;
	return best;
}

/* No slot of @offered enters with more credit than the largest folio. */
static void mo_vt_place(struct mo_batch *b, unsigned long offered)
{
	unsigned long level, top = 0, floor;
	unsigned int i, j;

	for_each_set_bit(i, &offered, MO_MAX_MIGRATORS) {
		level = mo_level(b, offered, i);
		if (i == __ffs(level)) {	/* the first of its priority */
			top = 0;
			for_each_set_bit(j, &level, MO_MAX_MIGRATORS)
				top = max(top, b->vt[j]);
		}
		if (b->vt[i] >= top)	/* no division where none can gain */
			continue;
		floor = top - min(top, mo_vt_cost(b, i, b->largest));
		if (b->vt[i] < floor) {
			b->vt[i] = floor;
			mo_vt_raise(b->t->slot[i].e, floor);
		}
	}
}

/*
 * Keep what the batch charged; carry the slots of a priority that could
 * take nothing of it along to the earliest clock of those that could.
 * Only the slots that got folios were charged, and only the priorities
 * that competed have slots to carry.
 */
static void mo_vt_save(struct mo_batch *b)
{
	const struct mo_table *t = b->t;
	unsigned long rest = b->competed, level, idle, v;
	unsigned int i;

	for_each_set_bit(i, &b->started, MO_MAX_MIGRATORS)
		if (b->charged[i])
			atomic_long_add(b->charged[i], &t->slot[i].e->vtime);
	while (rest) {
		level = mo_level(b, rest, __ffs(rest));
		idle = t->slot[__ffs(rest)].level & ~level;
		rest &= ~level;
		v = ULONG_MAX;
		if (idle)
			for_each_set_bit(i, &level, MO_MAX_MIGRATORS)
				v = min(v, b->vt[i]);
		for_each_set_bit(i, &idle, MO_MAX_MIGRATORS)
			mo_vt_raise(t->slot[i].e, v);
	}
}

/*
 * Of the highest-priority slots of @mask, those local to the folio's
 * destination or source node, as the reason's locality policy asks; all of
 * @mask if none is local or there is no policy.
 */
static unsigned long mo_local(struct mo_batch *b, unsigned long mask,
			      struct folio *src, struct folio *dst)
{
	enum mo_locality locality = b->t->reason[b->reason].locality;
	unsigned long local = 0, level;
	unsigned int i;
	int nid;

	if (locality == MO_LOCALITY_NONE || !mask)
		return mask;
	nid = folio_nid(locality == MO_LOCALITY_DST ? dst : src);
	level = mo_level(b, mask, __ffs(mask));
	for_each_set_bit(i, &level, MO_MAX_MIGRATORS)
		if (node_isset(nid, b->t->slot[i].e->nodes))
			local |= BIT(i);
	return local ?: mask;
}

/*
 * The slots that may take folios: healthy ones, and on the first round one
 * batch at a time for each migrator on probation.
 */
static unsigned long mo_usable(struct mo_batch *b, bool first)
{
	unsigned long usable = 0;
	struct mo_entry *e;
	unsigned int i;

	for (i = 0; i < b->t->nr; i++) {
		e = b->t->slot[i].e;
		if (b->excluded & BIT(i))
			continue;
		switch (READ_ONCE(e->health)) {
		case MO_HEALTH_OK:
			usable |= BIT(i);
			break;
		case MO_HEALTH_PROBATION:
			if (first && !atomic_cmpxchg(&e->probing, 0, 1)) {
				b->probe |= BIT(i);
				usable |= BIT(i);
			}
			break;
		}
	}
	return usable;
}

/* Let the next batch probe the migrators this one did not need. */
static void mo_probes_end(struct mo_batch *b, unsigned long probes)
{
	unsigned int i;

	for_each_set_bit(i, &probes, MO_MAX_MIGRATORS)
		atomic_set(&b->t->slot[i].e->probing, 0);
}

/*
 * Drop the slots not offered at least their minimum batch of @from: the
 * batch's pages per order, then, for the slots whose minimum is more than
 * a page, their sum over the orders they serve; for the others any order
 * they serve will do.
 */
static unsigned long mo_offer(struct mo_batch *b, struct mo_pairs *from,
			      unsigned long usable)
{
	unsigned long pages[MO_NR_ORDERS] = {}, present = 0, routed = 0, offer;
	const u16 *route = b->t->route[b->reason];
	unsigned long limited;
	unsigned int i, o;
	struct folio *src;

	list_for_each_entry(src, &from->src, lru) {
		pages[folio_order(src)] += folio_nr_pages(src);
		present |= BIT(folio_order(src));
		b->largest = max_t(unsigned long, b->largest, folio_nr_pages(src));
	}
	for_each_set_bit(o, &present, MO_NR_ORDERS)
		routed |= route[o];
	usable &= routed;
	limited = usable & b->t->limited;
	for_each_set_bit(i, &limited, MO_MAX_MIGRATORS) {
		offer = 0;
		for_each_set_bit(o, &present, MO_NR_ORDERS)
			if (route[o] & BIT(i))
				offer += pages[o];
		if (offer < b->t->slot[i].min_batch_pages)
			usable &= ~BIT(i);
	}
	return usable;
}

/*
 * Deal the folios of @from to the sub-batches (the slots that got some are
 * returned); those no migrator may take stay on @from.  A slot must be
 * offered at least its minimum batch, also when later rounds re-route the
 * folios of failed sub-batches.  A migrator on probation tries one folio
 * of the first round and is not charged for it.
 */
unsigned long mo_split_assign(struct mo_batch *b, struct mo_pairs *from,
			      bool first)
{
	const u16 *route = b->t->route[b->reason];
	unsigned long usable, pending = 0, mask, probe;
	struct folio *src, *src2, *dst, *dst2;
	bool ranked = from->nr > 1;
	unsigned int i;

	usable = mo_offer(b, from, mo_usable(b, first));
	if (first) {
		mo_probes_end(b, b->probe & ~usable);
		b->probe &= usable;
		mo_vt_place(b, usable & ~b->probe);
	}
	if (ranked)
		mo_rank(b);
	dst = list_first_entry(&from->dst, struct folio, lru);
	list_for_each_entry_safe(src, src2, &from->src, lru) {
		dst2 = list_next_entry(dst, lru);
		mask = route[folio_order(src)] & usable;
		probe = mo_local(b, mask & b->probe & ~pending, src, dst);
		mask = mo_local(b, mask & ~b->probe, src, dst);
		if (probe || mask) {
			i = probe ? __ffs(probe) :
				    mo_pick(b, mask, folio_nr_pages(src), ranked);
			mo_pairs_move(from, mo_sub_pairs(b, i), src, dst);
			pending |= BIT(i);
		}
		dst = dst2;
	}
	return pending;
}

/* Slot @i is not charged for @pages it did not copy (failed, or the CPU's). */
void mo_split_uncharge(struct mo_batch *b, unsigned int i, unsigned long pages)
{
	unsigned long cost = min(b->charged[i], mo_vt_cost(b, i, pages));

	b->vt[i] -= cost;
	b->charged[i] -= cost;
}

/* Keep the clocks; let the next batch probe the migrators on probation. */
void mo_split_end(struct mo_batch *b)
{
	mo_probes_end(b, b->probe);
	mo_vt_save(b);
}
