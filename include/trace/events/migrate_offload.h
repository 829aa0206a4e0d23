/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events of migration copy offload: one per batch, per sub-batch a
 * migrator ran, per hand-over of failed folios, per health change.  The
 * folios of the batch events add up to those of reasons/<reason>/stats/,
 * those of the sub-batch events to migrators/<name>/stats/.  The reason
 * prints through the kernel's MIGRATE_REASON list, its values exported to
 * tools in this system's format: include <trace/events/migrate.h> before
 * this header.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM migrate_offload

#if !defined(_TRACE_MIGRATE_OFFLOAD_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_MIGRATE_OFFLOAD_H

#include <linux/migrate.h>
#include <linux/tracepoint.h>

/* EM() and EMe() map each reason to its name there. */
#ifndef MIGRATE_REASON
#error "include <trace/events/migrate.h> before this header"
#endif
TRACE_DEFINE_ENUM(MR_COMPACTION);
TRACE_DEFINE_ENUM(MR_MEMORY_FAILURE);
TRACE_DEFINE_ENUM(MR_MEMORY_HOTPLUG);
TRACE_DEFINE_ENUM(MR_SYSCALL);
TRACE_DEFINE_ENUM(MR_MEMPOLICY_MBIND);
TRACE_DEFINE_ENUM(MR_NUMA_MISPLACED);
TRACE_DEFINE_ENUM(MR_CONTIG_RANGE);
TRACE_DEFINE_ENUM(MR_LONGTERM_PIN);
TRACE_DEFINE_ENUM(MR_DEMOTION);
TRACE_DEFINE_ENUM(MR_DAMON);

TRACE_EVENT(migrate_offload_batch,
	    TP_PROTO(int reason, unsigned int folios, unsigned long pages,
		     unsigned int copied, unsigned int subs, unsigned int left),
	    TP_ARGS(reason, folios, pages, copied, subs, left),
	    TP_STRUCT__entry(__field(int, reason)
			     __field(unsigned int, folios)
			     __field(unsigned long, pages)
			     __field(unsigned int, copied)
			     __field(unsigned int, subs)
			     __field(unsigned int, left)),
	    TP_fast_assign(__entry->reason = reason;
			   __entry->folios = folios;
			   __entry->pages = pages;
			   __entry->copied = copied;
			   __entry->subs = subs;
			   __entry->left = left;),
	    TP_printk("reason=%s folios=%u pages=%lu copied=%u subs=%u left=%u",
		      __print_symbolic(__entry->reason, MIGRATE_REASON), __entry->folios,
		      __entry->pages, __entry->copied, __entry->subs, __entry->left)
);

TRACE_EVENT(migrate_offload_sub,
	    TP_PROTO(const char *migrator, unsigned int folios, unsigned long bytes,
		     u64 ns, int ret),
	    TP_ARGS(migrator, folios, bytes, ns, ret),
	    TP_STRUCT__entry(__string(migrator, migrator)
			     __field(unsigned int, folios)
			     __field(unsigned long, bytes)
			     __field(u64, ns)
			     __field(int, ret)),
	    TP_fast_assign(__assign_str(migrator);
			   __entry->folios = folios;
			   __entry->bytes = bytes;
			   __entry->ns = ns;
			   __entry->ret = ret;),
	    TP_printk("migrator=%s folios=%u bytes=%lu ns=%llu ret=%d",
		      __get_str(migrator), __entry->folios, __entry->bytes,
		      __entry->ns, __entry->ret)
);

TRACE_EVENT(migrate_offload_fallback,
	    TP_PROTO(const char *from, const char *to, unsigned int folios),
	    TP_ARGS(from, to, folios),
	    TP_STRUCT__entry(__string(from, from)
			     __string(to, to)
			     __field(unsigned int, folios)),
	    TP_fast_assign(__assign_str(from);
			   __assign_str(to);
			   __entry->folios = folios;),
	    TP_printk("from=%s to=%s folios=%u",
		      __get_str(from), __get_str(to), __entry->folios)
);

TRACE_EVENT(migrate_offload_verify,
	    TP_PROTO(const char *migrator, unsigned int folios,
		     unsigned int compared, unsigned int wrong),
	    TP_ARGS(migrator, folios, compared, wrong),
	    TP_STRUCT__entry(__string(migrator, migrator)
			     __field(unsigned int, folios)
			     __field(unsigned int, compared)
			     __field(unsigned int, wrong)),
	    TP_fast_assign(__assign_str(migrator);
			   __entry->folios = folios;
			   __entry->compared = compared;
			   __entry->wrong = wrong;),
	    TP_printk("migrator=%s folios=%u compared=%u wrong=%u",
		      __get_str(migrator), __entry->folios, __entry->compared,
		      __entry->wrong)
);

TRACE_EVENT(migrate_offload_health,
	    TP_PROTO(const char *migrator, const char *health,
		     unsigned int backoff_ms, unsigned int relapses),
	    TP_ARGS(migrator, health, backoff_ms, relapses),
	    TP_STRUCT__entry(__string(migrator, migrator)
			     __string(health, health)
			     __field(unsigned int, backoff_ms)
			     __field(unsigned int, relapses)),
	    TP_fast_assign(__assign_str(migrator);
			   __assign_str(health);
			   __entry->backoff_ms = backoff_ms;
			   __entry->relapses = relapses;),
	    TP_printk("migrator=%s health=%s backoff_ms=%u relapses=%u",
		      __get_str(migrator), __get_str(health), __entry->backoff_ms,
		      __entry->relapses)
);

#endif /* _TRACE_MIGRATE_OFFLOAD_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
