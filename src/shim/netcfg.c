/*
 * netcfg.c - the CUBRT_NET and CUBRT_NTP variables of a Linux program's
 * environment (netdev.h is the interface): how its network comes up and
 * where its clock is set from. Pure parsing, no state: host-tested
 * (tests/unit/shim/test_shim_netcfg.c).
 */
#include <cubrt/fmt.h>
#include <cubrt/string.h>

#include "netdev.h"

/* One decimal number 0..max at *s, advancing *s: true, or false when
 * there is none or it is too big (leading zeros are allowed). */
static bool number(const char **s, unsigned max, unsigned *out)
{
	unsigned v = 0, digits = 0;

	while (**s >= '0' && **s <= '9' && digits < 4) {
		v = v * 10 + (unsigned)(**s - '0');
		(*s)++;
		digits++;
	}
	*out = v;
	return digits > 0 && digits < 4 && v <= max;
}

/* A dotted quad at *s, advancing *s past it. */
static bool quad(const char **s, cub_ip4_t *a)
{
	unsigned b[4];

	for (int i = 0; i < 4; i++) {
		if (i && *(*s)++ != '.')
			return false;
		if (!number(s, 255, &b[i]))
			return false;
	}
	*a = CUB_IP4(b[0], b[1], b[2], b[3]);
	return true;
}

/* An optional ",QUAD" at *s into *a (0: none); an empty one only when
 * another field follows (",,DNS": no gateway). */
static bool opt_quad(const char **s, cub_ip4_t *a)
{
	*a = 0;
	if (**s != ',')
		return true;
	(*s)++;
	return **s == ',' || quad(s, a);
}

int cubi_netcfg_parse(const char *v, struct cubi_netcfg *c)
{
	const char *s = v;

	*c = (struct cubi_netcfg){ .mode = CUBI_NET_OFF };
	if (!v || !*v || !cub_strcmp(v, "dhcp")) {
		c->mode = CUBI_NET_DHCP;
		return 0;
	}
	if (!cub_strcmp(v, "off"))
		return 0;
	if (!quad(&s, &c->addr) || *s++ != '/' || !number(&s, 32, &c->prefix) ||
	    c->prefix == 0 || !opt_quad(&s, &c->gateway) || !opt_quad(&s, &c->dns) || *s) {
		*c = (struct cubi_netcfg){ .mode = CUBI_NET_OFF };
		return -CUB_EINVAL;
	}
	c->mode = CUBI_NET_STATIC;
	return 0;
}

const char *cubi_env_find(char *const envp[], const char *name)
{
	size_t n = cub_strlen(name);

	for (size_t i = 0; envp && envp[i]; i++)
		if (!cub_strncmp(envp[i], name, n) && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

const char *cubi_netcfg_find(char *const envp[])
{
	return cubi_env_find(envp, CUBI_NETCFG_VAR);
}

/* A port 1..65535 at *s (1 to 5 digits), advancing *s. */
static bool port_number(const char **s, uint16_t *out)
{
	unsigned v = 0, digits = 0;

	while (**s >= '0' && **s <= '9' && digits < 6) {
		v = v * 10 + (unsigned)(**s - '0');
		(*s)++;
		digits++;
	}
	*out = (uint16_t)v;
	return digits > 0 && digits < 6 && v >= 1 && v <= 65535;
}

int cubi_ntpcfg_parse(const char *v, struct cub_sntp_server *list, unsigned *n)
{
	const char *s = v;

	*n = 0;
	while (v && *n < CUB_SNTP_KEEPER_SERVERS) {
		struct cub_sntp_server *e = &list[*n];

		e->port = 0;
		if (!quad(&s, &e->addr) || !e->addr || (*s == ':' && (s++, !port_number(&s, &e->port))))
			break;
		e->port = e->port ? e->port : CUB_SNTP_PORT;
		++*n;
		if (!*s)
			return 0;
		if (*s++ != ',')
			break;
	}
	*n = 0;
	return -CUB_EINVAL;
}

char *cubi_ip4_str(cub_ip4_t a, char buf[16])
{
	cub_snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, a >> 16 & 0xff, a >> 8 & 0xff,
		     a & 0xff);
	return buf;
}
