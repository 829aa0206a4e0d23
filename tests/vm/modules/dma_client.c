// SPDX-License-Identifier: GPL-2.0
/*
 * dma_client: a second dmaengine client on the public DMA_MEMCPY channels,
 * for the VM tests of dcbm with shared=1 (issue 8).
 *
 * While loaded, a thread copies one page at a time through
 * dma_find_channel(DMA_MEMCPY), the channels dcbm uses in shared mode, and
 * checks each transfer three ways: its callback arrives within 5 seconds
 * with no error, dmaengine_tx_status() reports DMA_COMPLETE, and every byte
 * of the destination is the source.  A transfer that another client
 * aborted fails one of them: dropped (no callback), or completed as a
 * success without being copied (qcom hidma).  copies and errors count the
 * transfers.  dma_find_channel() hands out one channel per CPU: "cpu" puts
 * the client on the channel of the CPU the migrating tasks run on.
 */
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/string.h>

static unsigned long copies, errors;
module_param(copies, ulong, 0444);
module_param(errors, ulong, 0444);
static int cpu = -1;
module_param(cpu, int, 0444);
MODULE_PARM_DESC(cpu, "Run on this CPU, whose channel dma_find_channel() gives (default: any)");

static struct task_struct *client_thread;

struct client_xfer {
	struct completion done;
	enum dmaengine_tx_result result;
};

static void client_callback(void *param, const struct dmaengine_result *res)
{
	struct client_xfer *x = param;

	x->result = res ? res->result : DMA_TRANS_NOERROR;
	complete(&x->done);
}

/* One page through @chan; a string naming what went wrong, or NULL. */
static const char *client_copy(struct dma_chan *chan, struct page *src,
			       struct page *dst, struct client_xfer *x)
{
	struct device *dev = chan->device->dev;
	struct dma_async_tx_descriptor *tx;
	const char *err = NULL;
	dma_addr_t s, d;
	dma_cookie_t cookie;

	s = dma_map_page(dev, src, 0, PAGE_SIZE, DMA_TO_DEVICE);
	d = dma_map_page(dev, dst, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, s) || dma_mapping_error(dev, d)) {
		err = "mapping";
		goto unmap;
	}
	tx = dmaengine_prep_dma_memcpy(chan, d, s, PAGE_SIZE, DMA_PREP_INTERRUPT);
	if (!tx) {
		err = "prep";
		goto unmap;
	}
	reinit_completion(&x->done);
	tx->callback_result = client_callback;
	tx->callback_param = x;
	cookie = dmaengine_submit(tx);
	dma_async_issue_pending(chan);
	if (!wait_for_completion_timeout(&x->done, 5 * HZ))
		err = "no callback: transfer dropped";
	else if (x->result != DMA_TRANS_NOERROR)
		err = "callback reported an error";
	else if (dmaengine_tx_status(chan, cookie, NULL) != DMA_COMPLETE)
		err = "status not DMA_COMPLETE";
unmap:
	if (!dma_mapping_error(dev, d))
		dma_unmap_page(dev, d, PAGE_SIZE, DMA_FROM_DEVICE);
	if (!dma_mapping_error(dev, s))
		dma_unmap_page(dev, s, PAGE_SIZE, DMA_TO_DEVICE);
	if (!err && memcmp(page_address(src), page_address(dst), PAGE_SIZE))
		err = "completed but not copied";
	return err;
}

static int client_fn(void *unused)
{
	struct page *src = alloc_page(GFP_KERNEL), *dst = alloc_page(GFP_KERNEL);
	struct client_xfer *x = kzalloc(sizeof(*x), GFP_KERNEL);
	unsigned long seq = 0;

	/* Freed only at the end: a dropped transfer may still land late. */
	if (!src || !dst || !x)
		goto out;
	init_completion(&x->done);
	dmaengine_get();
	while (!kthread_should_stop()) {
		struct dma_chan *chan = dma_find_channel(DMA_MEMCPY);
		const char *err;

		if (!chan) {
			schedule_timeout_interruptible(HZ / 100);
			continue;
		}
		memset(page_address(src), (int)(++seq & 0xff) | 1, PAGE_SIZE);
		memset(page_address(dst), 0, PAGE_SIZE);
		err = client_copy(chan, src, dst, x);
		if (err) {
			errors++;
			pr_info("dma_client: transfer %lu on %s: %s\n", seq,
				dma_chan_name(chan), err);
		} else {
			copies++;
		}
	}
	dmaengine_put();
out:
	/* Wait for kthread_stop(): it reads our exit code. */
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ / 10);
	kfree(x);
	if (dst)
		__free_page(dst);
	if (src)
		__free_page(src);
	return 0;
}

static int __init dma_client_init(void)
{
	client_thread = kthread_create(client_fn, NULL, "dma_client");
	if (IS_ERR(client_thread))
		return PTR_ERR(client_thread);
	if (cpu >= 0 && cpu_online(cpu))
		kthread_bind(client_thread, cpu);
	wake_up_process(client_thread);
	return 0;
}
module_init(dma_client_init);

static void __exit dma_client_exit(void)
{
	kthread_stop(client_thread);
	pr_info("dma_client: %lu copies, %lu errors\n", copies, errors);
}
module_exit(dma_client_exit);

MODULE_DESCRIPTION("Second dmaengine client on the public memcpy channels (test only)");
MODULE_LICENSE("GPL");
