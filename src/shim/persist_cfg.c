/*
 * persist_cfg.c - the CUBRT_PERSIST variable of a Linux program's
 * environment (persist.h is the interface): which disk keeps which
 * directory. Pure parsing, no state: host-tested
 * (tests/unit/shim/test_shim_persist.c).
 */
#include <cubrt/string.h>

#include "persist.h"

/* "vda".."vdd" at v, followed by ':': the disk's number, or -1. */
static int disk_of(const char *v)
{
	if (v[0] != 'v' || v[1] != 'd' || v[2] < 'a' ||
	    v[2] >= 'a' + CUB_BLK_MAX || v[3] != ':')
		return -1;
	return v[2] - 'a';
}

/* The first component of p (after its '/') is name. */
static bool first_is(const char *p, const char *name)
{
	size_t n = cub_strlen(name);

	return !cub_strncmp(p + 1, name, n) && (p[1 + n] == '/' || !p[1 + n]);
}

/* An absolute path of real components ("/a/b"), not "/". */
static bool path_ok(const char *p)
{
	size_t len = cub_strlen(p), k;

	if (p[0] != '/' || len < 2 || len > CUBI_PERSIST_PATH_MAX)
		return false;
	for (const char *c = p + 1;; c += k + 1) {
		for (k = 0; c[k] && c[k] != '/'; k++)
			;
		if (k == 0 || (k == 1 && c[0] == '.') ||
		    (k == 2 && c[0] == '.' && c[1] == '.'))
			return false;	/* "//", a trailing '/', "." or ".." */
		if (!c[k])
			break;
	}
	return !first_is(p, "proc") && !first_is(p, "dev");
}

int cubi_persistcfg_parse(const char *v, struct cubi_persistcfg *c)
{
	int disk;

	*c = (struct cubi_persistcfg){ 0 };
	if (!v || (disk = disk_of(v)) < 0 || !path_ok(v + 4))
		return -CUB_EINVAL;
	c->disk = (unsigned)disk;
	cub_memcpy(c->disk_name, v, 3);
	cub_memcpy(c->path, v + 4, cub_strlen(v + 4) + 1);
	return 0;
}

const char *cubi_persistcfg_find(char *const envp[])
{
	size_t n = sizeof(CUBI_PERSIST_VAR) - 1;

	for (size_t i = 0; envp && envp[i]; i++)
		if (!cub_strncmp(envp[i], CUBI_PERSIST_VAR, n) && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}
