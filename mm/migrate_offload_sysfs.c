// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/mm/migrate_offload/: the administrator's view and tuning of
 * migration copy offload.  See
 * Documentation/ABI/testing/sysfs-kernel-mm-migrate_offload.
 *
 *	enabled, max_failures, backoff_{min,max}_ms, stats/
 *	migrators/<name>/{priority,enabled,reasons,orders,weight,verify,
 *	  min_batch_pages,nodes,healthy,readmit_ms,backoff_ms,relapses,
 *	  capable_{reasons,orders},stats/}
 *	reasons/<reason>/{min_batch_pages,split,locality,cpu_copy,stats/}
 *
 * Every store() parses first and changes nothing on bad input (-EINVAL);
 * a store() on a migrator being unregistered gets -ENODEV.  A show() reads
 * one value without mo_lock: it may be a moment old, never torn.
 */
#include <linux/ctype.h>
#include <linux/kobject.h>
#include <linux/kstrtox.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "migrate_offload.h"

static struct kobject *mo_root_kobj, *mo_migrators_kobj;
static struct kobject *mo_reason_kobjs[MR_TYPES];

static const char * const mo_split_names[] = {
	[MO_SPLIT_WEIGHT] = "weight",
	[MO_SPLIT_ADAPTIVE] = "adaptive",
	NULL
};

static const char * const mo_locality_names[] = {
	[MO_LOCALITY_NONE] = "none",
	[MO_LOCALITY_DST] = "dst",
	[MO_LOCALITY_SRC] = "src",
	NULL
};

static const char * const mo_cpu_copy_names[] = {
	[MO_CPU_SHARE] = "share",
	[MO_CPU_FALLBACK] = "fallback",
	NULL
};

static int mo_reason_index(const char *tok)
{
	return match_string(migrate_reason_names, MR_TYPES, tok);
}

/*
 * Folio order of a token: an order ("9") or a folio size in bytes ("4096")
 * or with a K, M or G suffix ("2M").  A size that is no power of two, or
 * that does not fit an order, even by overflowing, is -EINVAL.
 */
static int mo_order_index(const char *tok)
{
	static const char suffixes[] = "KMG";
	size_t len = strlen(tok);
	unsigned int shift = 0;
	const char *suffix;
	char num[24];
	u64 size;

	suffix = len ? strchr(suffixes, toupper(tok[len - 1])) : NULL;
	if (suffix) {
		shift = 10 * (suffix - suffixes + 1);
		len--;
	}
	if (!len || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, tok, len);
	num[len] = '\0';
	if (kstrtou64(num, 0, &size))
		return -EINVAL;
	if (!shift && size < MO_NR_ORDERS)
		return size;
	if (!is_power_of_2(size) || ilog2(size) + shift < PAGE_SHIFT ||
	    ilog2(size) + shift - PAGE_SHIFT >= MO_NR_ORDERS)
		return -EINVAL;
	return ilog2(size) + shift - PAGE_SHIFT;
}

/*
 * Parse a set written as names or numbers separated by blanks or commas
 * ("all" = @cap); it must be a non-empty subset of @cap.
 */
static int mo_parse_set(const char *buf, unsigned long cap, unsigned long *out,
			int (*index)(const char *tok))
{
	char *copy, *cur, *tok;
	unsigned long set = 0;
	int i, ret = 0;

	copy = kstrdup(buf, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	cur = copy;
	while ((tok = strsep(&cur, " \t\n,"))) {
		if (!*tok)
			continue;
		i = strcmp(tok, "all") ? index(tok) : -ENOENT;
		if (i == -ENOENT) {
			set |= cap;
			continue;
		}
		if (i < 0) {
			ret = -EINVAL;
			break;
		}
		set |= BIT(i);
	}
	kfree(copy);
	if (!ret && (!set || (set & ~cap)))
		ret = -EINVAL;
	if (!ret)
		*out = set;
	return ret;
}

/*
 * Reasons by name (migrate_reason_names[]), orders as orders or sizes; into
 * @out only on success.  -EINVAL for a bad token or a set empty or outside
 * @cap, or -ENOMEM.
 */
int mo_parse_reasons(const char *buf, unsigned long cap, unsigned long *out)
{
	return mo_parse_set(buf, cap, out, mo_reason_index);
}

int mo_parse_orders(const char *buf, unsigned long cap, unsigned long *out)
{
	return mo_parse_set(buf, cap, out, mo_order_index);
}

/* A set as reason names, or orders if @names is NULL. */
static ssize_t mo_show_set(char *buf, unsigned long set,
			   const char * const *names)
{
	int i, len = 0;

	for_each_set_bit(i, &set, BITS_PER_LONG)
		len += names ? sysfs_emit_at(buf, len, "%s%s", len ? " " : "", names[i]) :
			       sysfs_emit_at(buf, len, "%s%d", len ? " " : "", i);
	return len + sysfs_emit_at(buf, len, "\n");
}

/* migrators/<name>/ */

static struct mo_entry *kobj_to_entry(struct kobject *kobj)
{
	return container_of(kobj, struct mo_entry, kobj);
}

/*
 * A numeric tunable of struct mo_params, parsed by _parse(buf, &val) into
 * a _type; any bad integer, one out of range included, is -EINVAL, as the
 * ABI says.
 */
#define MO_PARAM_ATTR(_name, _fmt, _type, _parse, _param)		\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, _fmt "\n",				\
			  READ_ONCE(kobj_to_entry(kobj)->params._name));	\
}									\
static ssize_t _name##_store(struct kobject *kobj,			\
			     struct kobj_attribute *attr,		\
			     const char *buf, size_t count)		\
{									\
	_type val;							\
									\
	if (_parse)							\
		return -EINVAL;						\
	return mo_entry_set(kobj_to_entry(kobj), _param, val) ?: count; \
}									\
static struct kobj_attribute mo_##_name##_attr = {			\
	.attr = { .name = #_name, .mode = 0644 },			\
	.show = _name##_show,						\
	.store = _name##_store,						\
}

MO_PARAM_ATTR(priority, "%d", int, kstrtoint(buf, 0, &val), MO_PARAM_PRIORITY);
MO_PARAM_ATTR(enabled, "%d", bool, kstrtobool(buf, &val), MO_PARAM_ENABLED);
MO_PARAM_ATTR(weight, "%u", unsigned int, kstrtouint(buf, 0, &val),
	      MO_PARAM_WEIGHT);
MO_PARAM_ATTR(min_batch_pages, "%u", unsigned int, kstrtouint(buf, 0, &val),
	      MO_PARAM_MIN_BATCH);
MO_PARAM_ATTR(verify, "%u", unsigned int, kstrtouint(buf, 0, &val),
	      MO_PARAM_VERIFY);

/* reasons, orders: the set served; capable_*: the capability. */
struct mo_set_attr {
	struct kobj_attribute attr;
	bool orders, capable;
};

static ssize_t mo_set_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct mo_set_attr *a = container_of(attr, struct mo_set_attr, attr);
	struct mo_entry *e = kobj_to_entry(kobj);

	if (a->orders)
		return mo_show_set(buf, a->capable ? e->cap_orders :
					READ_ONCE(e->params.orders), NULL);
	return mo_show_set(buf, a->capable ? e->cap_reasons :
				READ_ONCE(e->params.reasons), migrate_reason_names);
}

static ssize_t mo_set_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	struct mo_set_attr *a = container_of(attr, struct mo_set_attr, attr);
	struct mo_entry *e = kobj_to_entry(kobj);
	unsigned long set;
	int ret = a->orders ? mo_parse_orders(buf, e->cap_orders, &set) :
			      mo_parse_reasons(buf, e->cap_reasons, &set);

	if (!ret)
		ret = mo_entry_set(e, a->orders ? MO_PARAM_ORDERS :
					 MO_PARAM_REASONS, set);
	return ret ?: count;
}

#define MO_SET_ATTR(_name, _mode, _orders, _capable)			\
	static struct mo_set_attr mo_##_name##_attr = {			\
		.attr = __ATTR(_name, _mode, mo_set_show, mo_set_store), \
		.orders = _orders,					\
		.capable = _capable,					\
	}

MO_SET_ATTR(reasons, 0644, false, false);
MO_SET_ATTR(orders, 0644, true, false);
MO_SET_ATTR(capable_reasons, 0444, false, true);
MO_SET_ATTR(capable_orders, 0444, true, true);

static ssize_t nodes_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%*pbl\n",
			  nodemask_pr_args(&kobj_to_entry(kobj)->nodes));
}

static ssize_t healthy_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  mo_health_names[READ_ONCE(kobj_to_entry(kobj)->health)]);
}

/* "ok" (or "1"), "probation", "out" (or "0"): see mo_set_health(). */
static ssize_t healthy_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	int health = sysfs_match_string(mo_health_names, buf);

	if (health < 0 && sysfs_streq(buf, "1"))
		health = MO_HEALTH_OK;
	else if (health < 0 && sysfs_streq(buf, "0"))
		health = MO_HEALTH_OUT;
	if (health < 0)
		return -EINVAL;
	return mo_set_health(kobj_to_entry(kobj), health) ?: count;
}

/* Milliseconds until a migrator taken out is re-admitted on probation. */
static ssize_t readmit_ms_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	struct mo_entry *e = kobj_to_entry(kobj);
	long left = (long)(READ_ONCE(e->out_until) - jiffies);

	if (READ_ONCE(e->health) != MO_HEALTH_OUT || left < 0)
		left = 0;
	return sysfs_emit(buf, "%u\n", jiffies_to_msecs(left));
}

static ssize_t backoff_ms_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kobj_to_entry(kobj)->backoff_ms));
}

static ssize_t relapses_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kobj_to_entry(kobj)->relapses));
}

static struct kobj_attribute mo_healthy_attr = __ATTR_RW(healthy);
static struct kobj_attribute mo_nodes_attr = __ATTR_RO(nodes);
static struct kobj_attribute mo_readmit_ms_attr = __ATTR_RO(readmit_ms);
static struct kobj_attribute mo_backoff_ms_attr = __ATTR_RO(backoff_ms);
static struct kobj_attribute mo_relapses_attr = __ATTR_RO(relapses);

static struct attribute *mo_entry_attrs[] = {
	&mo_priority_attr.attr,
	&mo_enabled_attr.attr,
	&mo_weight_attr.attr,
	&mo_min_batch_pages_attr.attr,
	&mo_verify_attr.attr,
	&mo_reasons_attr.attr.attr,
	&mo_orders_attr.attr.attr,
	&mo_capable_reasons_attr.attr.attr,
	&mo_capable_orders_attr.attr.attr,
	&mo_nodes_attr.attr,
	&mo_healthy_attr.attr,
	&mo_readmit_ms_attr.attr,
	&mo_backoff_ms_attr.attr,
	&mo_relapses_attr.attr,
	NULL,
};

static const struct attribute_group mo_entry_group = {
	.attrs = mo_entry_attrs,
};

/* stats/ of a migrator, of a reason, and the global stats/ */

struct mo_stat_attr {
	struct kobj_attribute attr;
	enum mo_stat stat;
};

static int kobj_to_reason(struct kobject *kobj)
{
	int r;

	for (r = 0; r < MR_TYPES; r++)
		if (mo_reason_kobjs[r] == kobj)
			return r;
	return -EINVAL;
}

static long mo_kobj_stat(struct kobject *kobj, enum mo_stat i)
{
	int r = kobj_to_reason(kobj);

	if (kobj == mo_root_kobj)
		return mo_stat_total(i);
	return mo_stat_read(r >= 0 ? &mo_reason_stats[r] :
			    kobj_to_entry(kobj)->stats, i);
}

static ssize_t mo_stat_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	enum mo_stat i = container_of(attr, struct mo_stat_attr, attr)->stat;

	return sysfs_emit(buf, "%ld\n", mo_kobj_stat(kobj, i));
}

#define MO_STAT_ATTR(_name, _stat)					\
	static struct mo_stat_attr mo_stat_##_name = {			\
		.attr = __ATTR(_name, 0444, mo_stat_show, NULL),	\
		.stat = _stat,						\
	}

MO_STAT_ATTR(batches, MO_STAT_BATCHES);
MO_STAT_ATTR(folios, MO_STAT_FOLIOS);
MO_STAT_ATTR(bytes, MO_STAT_BYTES);
MO_STAT_ATTR(errors, MO_STAT_ERRORS);
MO_STAT_ATTR(declined, MO_STAT_DECLINED);
MO_STAT_ATTR(fallback_folios, MO_STAT_FALLBACK);
MO_STAT_ATTR(held_folios, MO_STAT_HELD);
MO_STAT_ATTR(verify_failures, MO_STAT_VERIFY);
MO_STAT_ATTR(busy_ns, MO_STAT_BUSY_NS);
MO_STAT_ATTR(cpu_folios, MO_STAT_CPU);
MO_STAT_ATTR(shared_folios, MO_STAT_SHARED);

static ssize_t throughput_show(struct kobject *kobj, struct kobj_attribute *attr,
			       char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&kobj_to_entry(kobj)->throughput));
}

static struct kobj_attribute mo_throughput_attr = __ATTR_RO(throughput);

static struct attribute *mo_entry_stats_attrs[] = {
	&mo_stat_batches.attr.attr,
	&mo_stat_folios.attr.attr,
	&mo_stat_bytes.attr.attr,
	&mo_stat_errors.attr.attr,
	&mo_stat_declined.attr.attr,
	&mo_stat_fallback_folios.attr.attr,
	&mo_stat_held_folios.attr.attr,
	&mo_stat_verify_failures.attr.attr,
	&mo_stat_busy_ns.attr.attr,
	&mo_throughput_attr.attr,
	NULL,
};

static const struct attribute_group mo_entry_stats_group = {
	.name = "stats",
	.attrs = mo_entry_stats_attrs,
};

const struct attribute_group *mo_entry_groups[] = {
	&mo_entry_group,
	&mo_entry_stats_group,
	NULL,
};

/* migrators/<name>/ of a new migrator; under mo_register_lock only. */
int mo_sysfs_add_entry(struct mo_entry *e)
{
	return mo_migrators_kobj ? kobject_add(&e->kobj, mo_migrators_kobj, "%s",
					       e->m->name) : -ENODEV;
}

/* Waits for store() methods in flight, which take mo_lock: not under it. */
void mo_sysfs_del_entry(struct mo_entry *e)
{
	if (e->kobj.state_in_sysfs)
		kobject_del(&e->kobj);
}

/* reasons/<reason>/ */

/* A policy of a reason: a number of pages, or a choice by name. */
struct mo_reason_attr {
	struct kobj_attribute attr;
	enum mo_reason_param which;
	const char * const *names;	/* NULL: a number */
};

static ssize_t reason_policy_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	struct mo_reason_attr *a = container_of(attr, struct mo_reason_attr, attr);
	const struct mo_reason_policy *p = &mo_reasons[kobj_to_reason(kobj)];

	if (a->which == MO_REASON_MIN_BATCH)
		return sysfs_emit(buf, "%u\n", READ_ONCE(p->min_batch_pages));
	return sysfs_emit(buf, "%s\n", a->names[a->which == MO_REASON_SPLIT ?
		READ_ONCE(p->split) : a->which == MO_REASON_LOCALITY ?
		READ_ONCE(p->locality) : READ_ONCE(p->cpu_copy)]);
}

static ssize_t reason_policy_store(struct kobject *kobj,
				   struct kobj_attribute *attr,
				   const char *buf, size_t count)
{
	struct mo_reason_attr *a = container_of(attr, struct mo_reason_attr, attr);
	unsigned int val;
	int ret = a->names ? __sysfs_match_string(a->names, -1, buf) :
			     kstrtouint(buf, 0, &val);

	if (ret < 0)
		return -EINVAL;
	if (a->names)
		val = ret;
	return mo_set_reason_policy(kobj_to_reason(kobj), a->which, val) ?: count;
}

#define MO_REASON_ATTR(_name, _which, _names)				\
	static struct mo_reason_attr mo_reason_##_name##_attr = {	\
		.attr = __ATTR(_name, 0644, reason_policy_show,		\
			       reason_policy_store),			\
		.which = _which,					\
		.names = _names,					\
	}

MO_REASON_ATTR(min_batch_pages, MO_REASON_MIN_BATCH, NULL);
MO_REASON_ATTR(split, MO_REASON_SPLIT, mo_split_names);
MO_REASON_ATTR(locality, MO_REASON_LOCALITY, mo_locality_names);
MO_REASON_ATTR(cpu_copy, MO_REASON_CPU_COPY, mo_cpu_copy_names);

static struct attribute *mo_reason_attrs[] = {
	&mo_reason_min_batch_pages_attr.attr.attr,
	&mo_reason_split_attr.attr.attr,
	&mo_reason_locality_attr.attr.attr,
	&mo_reason_cpu_copy_attr.attr.attr,
	NULL,
};

static const struct attribute_group mo_reason_group = {
	.attrs = mo_reason_attrs,
};

/* The global stats/ and reasons/<reason>/stats/ */
static struct attribute *mo_batch_stats_attrs[] = {
	&mo_stat_batches.attr.attr,
	&mo_stat_folios.attr.attr,
	&mo_stat_bytes.attr.attr,
	&mo_stat_fallback_folios.attr.attr,
	&mo_stat_held_folios.attr.attr,
	&mo_stat_cpu_folios.attr.attr,
	&mo_stat_shared_folios.attr.attr,
	NULL,
};

static const struct attribute_group mo_batch_stats_group = {
	.name = "stats",
	.attrs = mo_batch_stats_attrs,
};

static const struct attribute_group *mo_reason_groups[] = {
	&mo_reason_group,
	&mo_batch_stats_group,
	NULL,
};

/* The top directory */

/* A global tunable, parsed by _parse into a _type and set by _set. */
#define MO_GLOBAL_ATTR(_name, _var, _type, _parse, _set)		\
static ssize_t global_##_name##_show(struct kobject *kobj,		\
				     struct kobj_attribute *attr, char *buf) \
{									\
	return sysfs_emit(buf, "%u\n", READ_ONCE(_var));		\
}									\
static ssize_t global_##_name##_store(struct kobject *kobj,		\
				      struct kobj_attribute *attr,	\
				      const char *buf, size_t count)	\
{									\
	_type val;							\
									\
	return _parse ? -EINVAL : _set ?: count;			\
}									\
static struct kobj_attribute mo_global_##_name##_attr =		\
	__ATTR(_name, 0644, global_##_name##_show, global_##_name##_store)

MO_GLOBAL_ATTR(enabled, mo_enabled, bool, kstrtobool(buf, &val),
	       mo_set_enabled(val));
MO_GLOBAL_ATTR(max_failures, mo_max_failures, unsigned int,
	       kstrtouint(buf, 0, &val),
	       mo_set_health_param(&mo_max_failures, val));
MO_GLOBAL_ATTR(backoff_min_ms, mo_backoff_min_ms, unsigned int,
	       kstrtouint(buf, 0, &val),
	       mo_set_health_param(&mo_backoff_min_ms, val));
MO_GLOBAL_ATTR(backoff_max_ms, mo_backoff_max_ms, unsigned int,
	       kstrtouint(buf, 0, &val),
	       mo_set_health_param(&mo_backoff_max_ms, val));

static struct attribute *mo_root_attrs[] = {
	&mo_global_enabled_attr.attr,
	&mo_global_max_failures_attr.attr,
	&mo_global_backoff_min_ms_attr.attr,
	&mo_global_backoff_max_ms_attr.attr,
	NULL,
};

static const struct attribute_group mo_root_group = {
	.attrs = mo_root_attrs,
};

static const struct attribute_group *mo_root_groups[] = {
	&mo_root_group,
	&mo_batch_stats_group,
	NULL,
};

/**
 * mo_sysfs_init - create /sys/kernel/mm/migrate_offload/
 *
 * Return: 0 or -ENOMEM.  Migration copy offload works without sysfs; on
 * error, what was created stays (and is never written to by anyone).
 */
int __init mo_sysfs_init(void)
{
	struct kobject *reasons;
	int r;

	mo_root_kobj = kobject_create_and_add("migrate_offload", mm_kobj);
	if (!mo_root_kobj || sysfs_create_groups(mo_root_kobj, mo_root_groups))
		goto err;
	reasons = kobject_create_and_add("reasons", mo_root_kobj);
	if (!reasons)
		goto err;
	for (r = 0; r < MR_TYPES; r++) {
		mo_reason_kobjs[r] = kobject_create_and_add(migrate_reason_names[r],
							    reasons);
		if (!mo_reason_kobjs[r] ||
		    sysfs_create_groups(mo_reason_kobjs[r], mo_reason_groups))
			goto err;
	}
	mo_migrators_kobj = kobject_create_and_add("migrators", mo_root_kobj);
	if (mo_migrators_kobj)
		return 0;
err:
	pr_err("migrate_offload: cannot create /sys/kernel/mm/migrate_offload\n");
	return -ENOMEM;
}
