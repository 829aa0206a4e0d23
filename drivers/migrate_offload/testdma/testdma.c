// SPDX-License-Identifier: GPL-2.0
/*
 * testdma: a software DMA_MEMCPY dmaengine provider, for testing only.
 *
 * QEMU emulates no memcpy-capable DMA engine on x86, so the tests of dcbm
 * need a provider of their own.  testdma registers a real dma_device with
 * a few DMA_MEMCPY channels; descriptors issued on a channel are copied
 * with the CPU by a worker, which completes them and runs their callbacks.
 *
 * "model" makes it keep the contract of one real engine, as its driver in
 * this tree keeps it (Documentation/mm/migrate_copy_offload.rst has the
 * table): how a failed descriptor is reported, completion order and
 * tx_status, which of terminate_all and synchronize exist and what they
 * stop.  The platform driver takes the name of the driver it stands for,
 * so that a client that knows engines by driver (dcbm does) cannot tell
 * the model from the engine.  Faults are injected with module parameters:
 * fail every Nth descriptor, delay each burst, or hold every burst until
 * "hang" is cleared (an engine that never completes).  rate_mbps and
 * desc_us give each channel a known speed, whatever the host's.
 *
 * Descriptors without DMA_PREP_INTERRUPT complete silently: their
 * callbacks run at the next interrupt of their channel, or when the burst
 * ends (ioat's cleanup timer, ioat_timer_event(), does the same).
 *
 * With per_node, one device sits on each online NUMA node, as one engine
 * per socket or die does on real machines.  Completions run on a
 * WQ_MEM_RECLAIM workqueue of its own: clients call device_synchronize()
 * from reclaim, which must not wait on a workqueue that reclaim cannot
 * count on.  Its CPUs can be set in sysfs (workqueue/testdma/cpumask):
 * make bench keeps the channels off the migrating CPU, as hardware is.
 *
 * Addresses are CPU physical addresses (dma-direct without an IOMMU): this
 * is not a model of a real device's hardware, only of its driver's
 * contract with its clients.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "dmaengine.h"

#define TESTDMA_MAX_CHANNELS	16

/* How a descriptor that failed is completed. */
enum testdma_error {
	TESTDMA_ERR_RESULT,	/* its callback result says so */
	TESTDMA_ERR_SILENT,	/* completed with a NULL result: success */
	TESTDMA_ERR_RESET,	/* as silent; the rest of the burst dropped */
};

/* The contract of one engine's driver with its clients. */
struct testdma_model {
	const char *name;		/* model= */
	const char *driver;		/* the driver it stands for */
	enum testdma_error error;
	bool abort_rest;		/* a failure aborts the rest of the burst */
	bool no_order;			/* DMA_COMPLETION_NO_ORDER */
	bool terminate, synchronize;
	bool terminated_succeed;	/* terminated callbacks run, NULL result */
	/* terminate: a taken burst copies on, with no callback, unwaited for */
	bool orphans_taken;
	/* descriptors a channel holds; prep fails while all are in use */
	unsigned int max_descs;
};

static const struct testdma_model testdma_models[] = {
	/* An engine that keeps every promise. */
	{ .name = "testdma", .driver = "testdma",
	  .terminate = true, .synchronize = true },
	/*
	 * ioat_eh(): the faulting descriptor completes with
	 * DMA_TRANS_{READ,WRITE}_FAILED, ioat_abort_descs() the rest with
	 * DMA_TRANS_ABORTED; in order; no device_terminate_all.
	 */
	{ .name = "ioat", .driver = "ioatdma", .abort_rest = true },
	/*
	 * idxd_dma_complete_txd(): DMA_TRANS_WRITE_FAILED; tx_status is
	 * DMA_OUT_OF_ORDER for every cookie (idxd_dma_tx_status()),
	 * DMA_COMPLETION_NO_ORDER; no terminate or synchronize.
	 */
	{ .name = "idxd", .driver = "idxd", .no_order = true },
	/*
	 * pt_handle_active_desc(): a DMA_ERROR descriptor is completed with
	 * a NULL result; pt_terminate_all() frees every descriptor, the one
	 * the hardware queue runs included, whose copy goes on with no
	 * callback; pt_synchronize() (vchan_synchronize()) waits for the
	 * tasklet, not for the hardware.
	 */
	{ .name = "ptdma", .driver = "ptdma", .error = TESTDMA_ERR_SILENT,
	  .terminate = true, .synchronize = true, .orphans_taken = true },
	/*
	 * hidma_process_completed(): DMA_TRANS_ABORTED;
	 * hidma_terminate_channel() runs the callbacks of what it drops
	 * with a NULL result; no device_synchronize.
	 */
	{ .name = "hidma", .driver = "hidma", .terminate = true,
	  .terminated_succeed = true },
	/*
	 * zynqmp_dma_reset() after an error interrupt: the active descriptor
	 * is completed with a NULL result, the others freed without
	 * callback; zynqmp_dma_device_terminate_all() frees without
	 * callback and leaves the hardware running; synchronize kills the
	 * tasklet.  ZYNQMP_DMA_NUM_DESCS (32) descriptors per channel:
	 * zynqmp_dma_prep_memcpy() returns NULL once desc_free_cnt runs out,
	 * and zynqmp_dma_free_descriptor() returns one after its callback.
	 */
	{ .name = "zynqmp", .driver = "xilinx-zynqmp-dma",
	  .error = TESTDMA_ERR_RESET, .terminate = true, .synchronize = true,
	  .orphans_taken = true, .max_descs = 32 },
};

static const struct testdma_model *model_of;

static char *model = "testdma";
module_param(model, charp, 0444);
MODULE_PARM_DESC(model, "Engine whose driver contract to keep: testdma, ioat, idxd, ptdma, hidma, zynqmp");

static unsigned int channels = 4;
module_param(channels, uint, 0444);
MODULE_PARM_DESC(channels, "Number of DMA_MEMCPY channels (1-16, default 4)");

static unsigned int fail_every;
module_param(fail_every, uint, 0644);
MODULE_PARM_DESC(fail_every, "Fail every Nth descriptor, 0 = never");

static unsigned int delay_ms;
module_param(delay_ms, uint, 0644);
MODULE_PARM_DESC(delay_ms, "Delay before each burst of descriptors, in ms");

static unsigned int desc_us;
module_param(desc_us, uint, 0644);
MODULE_PARM_DESC(desc_us, "Fixed cost of each descriptor, in us");

static DECLARE_WAIT_QUEUE_HEAD(testdma_hang_wait);
static bool hang;

static int testdma_set_hang(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_bool(val, kp);

	wake_up_all(&testdma_hang_wait);
	return ret;
}

static const struct kernel_param_ops testdma_hang_ops = {
	.set = testdma_set_hang,
	.get = param_get_bool,
};
module_param_cb(hang, &testdma_hang_ops, &hang, 0644);
MODULE_PARM_DESC(hang, "Hold every burst taken until cleared: an engine that never completes");

static bool per_node;
module_param(per_node, bool, 0444);
MODULE_PARM_DESC(per_node, "One device per online NUMA node, instead of one of no node");

static unsigned long issued, completed, failed, interrupts, dropped, exhausted;
module_param(exhausted, ulong, 0444);
MODULE_PARM_DESC(exhausted, "Preps refused: every descriptor of the channel in use (max_descs)");
module_param(issued, ulong, 0444);
module_param(completed, ulong, 0444);
module_param(failed, ulong, 0444);
module_param(interrupts, ulong, 0444);
module_param(dropped, ulong, 0444);

struct testdma_desc {
	struct dma_async_tx_descriptor tx;
	struct list_head node;
	dma_addr_t dst, src;
	size_t len;
	struct dmaengine_result res;
	bool null_result;
};

struct testdma_chan {
	struct dma_chan chan;
	spinlock_t lock;		/* submitted, issued, cookies */
	struct list_head submitted;
	struct list_head issued;
	struct work_struct work;
	spinlock_t cb_lock;		/* callbacks against terminate */
	unsigned int gen;		/* terminations, under cb_lock */
	atomic_t descs;			/* prepared and not yet freed */
	u64 due;			/* ns: the burst's paced end so far */
};

struct testdma {
	struct dma_device dd;
	unsigned int id;		/* of the device, 0 without per_node */
	unsigned int nr_chans;
	struct testdma_chan chan[TESTDMA_MAX_CHANNELS];
};

static atomic_t testdma_seq = ATOMIC_INIT(0);
#define TESTDMA_MAX_DEVICES	8

static unsigned int rate_mbps[TESTDMA_MAX_DEVICES], nr_rates;
module_param_array(rate_mbps, uint, &nr_rates, 0644);
MODULE_PARM_DESC(rate_mbps, "Speed of each channel in MB/s, 0 = as fast as the CPU copies; per device, one per node with per_node (one value: all)");
static struct platform_device *testdma_pdevs[TESTDMA_MAX_DEVICES];
static struct workqueue_struct *testdma_wq;

static struct testdma_chan *to_testdma_chan(struct dma_chan *chan)
{
	return container_of(chan, struct testdma_chan, chan);
}

static struct testdma_desc *to_testdma_desc(struct dma_async_tx_descriptor *tx)
{
	return container_of(tx, struct testdma_desc, tx);
}

static dma_cookie_t testdma_tx_submit(struct dma_async_tx_descriptor *tx)
{
	struct testdma_chan *c = to_testdma_chan(tx->chan);
	dma_cookie_t cookie;

	spin_lock_bh(&c->lock);
	cookie = dma_cookie_assign(tx);
	list_add_tail(&to_testdma_desc(tx)->node, &c->submitted);
	spin_unlock_bh(&c->lock);
	return cookie;
}

static void testdma_free(struct testdma_desc *d)
{
	atomic_dec(&to_testdma_chan(d->tx.chan)->descs);
	kfree(d);
}

static struct dma_async_tx_descriptor *
testdma_prep_memcpy(struct dma_chan *chan, dma_addr_t dst, dma_addr_t src,
		    size_t len, unsigned long flags)
{
	struct testdma_chan *c = to_testdma_chan(chan);
	unsigned int max = model_of->max_descs;
	struct testdma_desc *d;

	if (atomic_inc_return(&c->descs) > max && max) {
		atomic_dec(&c->descs);
		exhausted++;
		return NULL;
	}
	d = kzalloc(sizeof(*d), GFP_NOWAIT);
	if (!d) {
		atomic_dec(&c->descs);
		return NULL;
	}
	dma_async_tx_descriptor_init(&d->tx, chan);
	d->tx.flags = flags;
	d->tx.tx_submit = testdma_tx_submit;
	d->dst = dst;
	d->src = src;
	d->len = len;
	return &d->tx;
}

/*
 * Run the callbacks of the completed descriptors on @done, taken in
 * generation @gen: an interrupt.  Terminated since, they have none.
 */
static void testdma_interrupt(struct testdma_chan *c, struct list_head *done,
			      unsigned int gen)
{
	struct testdma_desc *d, *tmp;

	spin_lock_bh(&c->cb_lock);
	list_for_each_entry_safe(d, tmp, done, node) {
		if (c->gen == gen)
			dmaengine_desc_get_callback_invoke(&d->tx,
							   d->null_result ? NULL : &d->res);
		else
			dropped++;
		testdma_free(d);
	}
	spin_unlock_bh(&c->cb_lock);
	INIT_LIST_HEAD(done);
}

/*
 * A channel of a known speed: a descriptor takes desc_us plus its length
 * at rate_mbps (bytes per microsecond), at least, and the descriptors of a
 * burst follow each other as on an engine's queue: each is due that long
 * after the one before it was due (the first after the burst started),
 * not after the worker woke from the last sleep.  A late wake-up is made
 * up by the next descriptors of the burst, copied without sleeping: under
 * QEMU TCG a sleep per descriptor ran bursts of 4 KiB ones at a fifth of
 * their rate.  The worker sleeps until a descriptor is due, leaving the
 * CPU free, as an engine does, with 1/16 slack: fsleep() may sleep twice
 * as long (its range is usecs to 2 * usecs).
 */
static void testdma_pace(struct testdma_chan *c, size_t len)
{
	struct testdma *t = container_of(c->chan.device, struct testdma, dd);
	unsigned int rate = READ_ONCE(rate_mbps[nr_rates > t->id ? t->id : 0]);
	u64 ns = (u64)READ_ONCE(desc_us) * NSEC_PER_USEC, now, us;

	if (rate)
		ns += div_u64((u64)len * NSEC_PER_USEC, rate);
	if (!ns)
		return;
	c->due += ns;
	now = ktime_get_ns();
	us = c->due > now ? div_u64(c->due - now, NSEC_PER_USEC) : 0;
	if (us > 10)
		usleep_range(us, us + us / 16);
	else
		udelay(us);
}

/* Copy @d, or fail it as every fail_every-th descriptor; true if failed. */
static bool testdma_run(struct testdma_chan *c, struct testdma_desc *d)
{
	unsigned int every = READ_ONCE(fail_every);

	if (every && atomic_inc_return(&testdma_seq) % every == 0) {
		failed++;
		return true;
	}
	memcpy(phys_to_virt(d->dst), phys_to_virt(d->src), d->len);
	testdma_pace(c, d->len);
	completed++;
	return false;
}

/*
 * Complete the descriptors of @burst in the model's order; a failure is
 * reported as the model's driver reports it.
 */
static void testdma_complete_burst(struct testdma_chan *c,
				   struct list_head *burst, unsigned int gen)
{
	const struct testdma_model *mo = model_of;
	bool aborting = false, reset = false;
	struct testdma_desc *d;
	LIST_HEAD(done);

	while (!list_empty(burst)) {
		d = mo->no_order ? list_last_entry(burst, struct testdma_desc, node) :
				   list_first_entry(burst, struct testdma_desc, node);
		list_move_tail(&d->node, &done);
		if (reset) {		/* freed without callback */
			list_del(&d->node);
			testdma_free(d);
			dropped++;
			continue;
		}
		d->res.result = DMA_TRANS_NOERROR;
		if (aborting) {
			d->res.result = DMA_TRANS_ABORTED;
		} else if (testdma_run(c, d)) {
			d->res.result = DMA_TRANS_WRITE_FAILED;
			d->res.residue = d->len;
			d->null_result = mo->error != TESTDMA_ERR_RESULT;
			aborting = mo->abort_rest;
			reset = mo->error == TESTDMA_ERR_RESET;
		}
		spin_lock_bh(&c->lock);
		dma_cookie_complete(&d->tx);
		spin_unlock_bh(&c->lock);
		if (d->tx.flags & DMA_PREP_INTERRUPT) {
			interrupts++;
			testdma_interrupt(c, &done, gen);
		}
	}
	testdma_interrupt(c, &done, gen);
}

static void testdma_workfn(struct work_struct *work)
{
	struct testdma_chan *c = container_of(work, struct testdma_chan, work);
	unsigned int gen;
	LIST_HEAD(burst);

	spin_lock_bh(&c->lock);
	list_splice_tail_init(&c->issued, &burst);
	spin_unlock_bh(&c->lock);
	if (list_empty(&burst))
		return;
	spin_lock_bh(&c->cb_lock);
	gen = c->gen;
	spin_unlock_bh(&c->cb_lock);
	/* Taken, then stuck: a terminate cannot drop it any more. */
	wait_event(testdma_hang_wait, !READ_ONCE(hang));
	if (READ_ONCE(delay_ms))
		msleep(READ_ONCE(delay_ms));
	c->due = ktime_get_ns();
	testdma_complete_burst(c, &burst, gen);
}

static void testdma_issue_pending(struct dma_chan *chan)
{
	struct testdma_chan *c = to_testdma_chan(chan);

	spin_lock_bh(&c->lock);
	issued += list_count_nodes(&c->submitted);
	list_splice_tail_init(&c->submitted, &c->issued);
	spin_unlock_bh(&c->lock);
	queue_work(testdma_wq, &c->work);
}

static enum dma_status testdma_tx_status(struct dma_chan *chan,
					 dma_cookie_t cookie,
					 struct dma_tx_state *state)
{
	if (model_of->no_order)
		return DMA_OUT_OF_ORDER;
	return dma_cookie_status(chan, cookie, state);
}

/*
 * Drop what the worker has not taken; a burst it took copies to its end,
 * as on every engine of the table, and where the model orphans it, with no
 * callback.  hidma runs the callbacks of what it drops with a NULL result,
 * which dmaengine reports as a success.
 */
static int testdma_terminate_all(struct dma_chan *chan)
{
	struct testdma_chan *c = to_testdma_chan(chan);
	struct testdma_desc *d, *tmp;
	LIST_HEAD(drop);

	if (model_of->orphans_taken) {
		spin_lock_bh(&c->cb_lock);
		c->gen++;
		spin_unlock_bh(&c->cb_lock);
	}

	spin_lock_bh(&c->lock);
	list_splice_tail_init(&c->submitted, &drop);
	list_splice_tail_init(&c->issued, &drop);
	spin_unlock_bh(&c->lock);
	list_for_each_entry_safe(d, tmp, &drop, node) {
		if (model_of->terminated_succeed)
			dmaengine_desc_get_callback_invoke(&d->tx, NULL);
		testdma_free(d);
	}
	return 0;
}

/* No callback runs after this; an orphaned burst may still copy. */
static void testdma_synchronize(struct dma_chan *chan)
{
	struct testdma_chan *c = to_testdma_chan(chan);

	if (model_of->orphans_taken) {
		spin_lock_bh(&c->cb_lock);
		spin_unlock_bh(&c->cb_lock);
		return;
	}
	flush_work(&c->work);
}

static int testdma_alloc_chan_resources(struct dma_chan *chan)
{
	dma_cookie_init(chan);
	return 1;
}

static void testdma_free_chan_resources(struct dma_chan *chan)
{
	testdma_terminate_all(chan);
	testdma_synchronize(chan);
}

static int testdma_probe(struct platform_device *pdev)
{
	unsigned int i, n = clamp(channels, 1U, TESTDMA_MAX_CHANNELS);
	const struct testdma_model *mo = model_of;
	struct testdma *t;
	int ret;

	ret = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	t = devm_kzalloc(&pdev->dev, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	dma_cap_set(DMA_MEMCPY, t->dd.cap_mask);
	if (mo->no_order)
		dma_cap_set(DMA_COMPLETION_NO_ORDER, t->dd.cap_mask);
	t->dd.dev = &pdev->dev;
	t->id = pdev->id < 0 ? 0 : pdev->id;
	t->dd.copy_align = DMAENGINE_ALIGN_1_BYTE;
	t->dd.device_alloc_chan_resources = testdma_alloc_chan_resources;
	t->dd.device_free_chan_resources = testdma_free_chan_resources;
	t->dd.device_prep_dma_memcpy = testdma_prep_memcpy;
	t->dd.device_issue_pending = testdma_issue_pending;
	t->dd.device_tx_status = testdma_tx_status;
	if (mo->terminate)
		t->dd.device_terminate_all = testdma_terminate_all;
	if (mo->synchronize)
		t->dd.device_synchronize = testdma_synchronize;
	INIT_LIST_HEAD(&t->dd.channels);
	t->nr_chans = n;
	for (i = 0; i < n; i++) {
		struct testdma_chan *c = &t->chan[i];

		spin_lock_init(&c->lock);
		spin_lock_init(&c->cb_lock);
		INIT_LIST_HEAD(&c->submitted);
		INIT_LIST_HEAD(&c->issued);
		INIT_WORK(&c->work, testdma_workfn);
		c->chan.device = &t->dd;
		list_add_tail(&c->chan.device_node, &t->dd.channels);
	}
	platform_set_drvdata(pdev, t);
	ret = dma_async_device_register(&t->dd);
	if (!ret)
		dev_info(&pdev->dev, "test-only memcpy DMA engine, model %s, %u channels, node %d\n",
			 mo->name, n, dev_to_node(&pdev->dev));
	return ret;
}

static void testdma_remove(struct platform_device *pdev)
{
	struct testdma *t = platform_get_drvdata(pdev);
	unsigned int i;

	dma_async_device_unregister(&t->dd);
	/* An orphaned burst may still be copying. */
	for (i = 0; i < t->nr_chans; i++)
		flush_work(&t->chan[i].work);
}

static struct platform_driver testdma_driver = {
	.probe = testdma_probe,
	.remove = testdma_remove,
};

static void testdma_del_devices(void)
{
	unsigned int i;

	for (i = 0; i < TESTDMA_MAX_DEVICES; i++)
		if (testdma_pdevs[i])
			platform_device_unregister(testdma_pdevs[i]);
}

/* Device @id on node @nid (NUMA_NO_NODE: none), probed at once. */
static int testdma_add_device(unsigned int id, int nid)
{
	struct platform_device *pdev;
	int ret;

	pdev = platform_device_alloc(model_of->driver,
				     per_node ? id : PLATFORM_DEVID_NONE);
	if (!pdev)
		return -ENOMEM;
	set_dev_node(&pdev->dev, nid);
	ret = platform_device_add(pdev);
	if (ret) {
		platform_device_put(pdev);
		return ret;
	}
	testdma_pdevs[id] = pdev;
	return 0;
}

static int testdma_add_devices(void)
{
	unsigned int id = 0;
	int nid, ret;

	if (!per_node)
		return testdma_add_device(0, NUMA_NO_NODE);
	for_each_online_node(nid) {
		if (id == TESTDMA_MAX_DEVICES)
			break;
		ret = testdma_add_device(id++, nid);
		if (ret)
			return ret;
	}
	return 0;
}

static const struct testdma_model *testdma_find_model(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(testdma_models); i++)
		if (!strcmp(name, testdma_models[i].name))
			return &testdma_models[i];
	return NULL;
}

static int __init testdma_init(void)
{
	int ret;

	model_of = testdma_find_model(model);
	if (!model_of)
		return -EINVAL;
	testdma_driver.driver.name = model_of->driver;
	testdma_wq = alloc_workqueue("testdma", WQ_UNBOUND | WQ_MEM_RECLAIM | WQ_SYSFS,
				     0);
	if (!testdma_wq)
		return -ENOMEM;
	ret = platform_driver_register(&testdma_driver);
	if (ret)
		goto err_wq;
	ret = testdma_add_devices();
	if (ret) {
		testdma_del_devices();
		platform_driver_unregister(&testdma_driver);
		goto err_wq;
	}
	return 0;
err_wq:
	destroy_workqueue(testdma_wq);
	return ret;
}
module_init(testdma_init);

static void __exit testdma_exit(void)
{
	WRITE_ONCE(hang, false);
	wake_up_all(&testdma_hang_wait);
	testdma_del_devices();
	platform_driver_unregister(&testdma_driver);
	destroy_workqueue(testdma_wq);
}
module_exit(testdma_exit);

MODULE_DESCRIPTION("Test-only software memcpy DMA engine keeping real engines' contracts");
MODULE_LICENSE("GPL");
