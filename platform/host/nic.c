/*
 * platform/host/nic.c - the network contract of arch.h on the host: a test
 * process has no network card of its own. The portable stack (src/net) is
 * unit-tested through its own interface instead (tests/unit/net drive it
 * with frames on an in-memory wire), so every call here answers "no such
 * device".
 */
#include <cubrt/arch.h>

int cub_arch_nic_info(unsigned i, struct cub_arch_nic_info *info)
{
	(void)i;
	(void)info;
	return -CUB_ENODEV;
}

int cub_arch_nic_stats(unsigned i, struct cub_arch_nic_stats *st)
{
	(void)i;
	(void)st;
	return -CUB_ENODEV;
}

int cub_arch_nic_send(unsigned i, const void *frame, size_t len)
{
	(void)i;
	(void)frame;
	(void)len;
	return -CUB_ENODEV;
}

int cub_arch_nic_recv(unsigned i, void *buf, size_t cap)
{
	(void)i;
	(void)buf;
	(void)cap;
	return -CUB_ENODEV;
}

int cub_arch_nic_set_notify(unsigned i, void (*fn)(void *arg), void *arg)
{
	(void)i;
	(void)fn;
	(void)arg;
	return -CUB_ENODEV;
}
