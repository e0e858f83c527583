/*
 * libc.c - a sweep of the libc facilities ordinary C programs use, in an
 * unmodified musl program on bare metal, beyond what files.c, sockets.c,
 * signals.c and timers.c cover: time zones (none, POSIX strings, a TZif
 * file written to /etc/localtime), the CPU clocks, users, groups and
 * host names, name and service lookups, stdio buffering and memory
 * streams, float formatting, wide characters and the generic ioctls
 * (FIONBIO, FIONREAD, FIOCLEX, if_nametoindex) (this file); the
 * environment, limits, exit handlers, abort, spawning (which fails: one
 * address space, no fork), temporary files and tree walks, large blocks,
 * and a SIGSEGV handler that mends the fault (libc_proc.c); threads
 * (libc_threads.c). One line per check; the summary is printed by an
 * exit handler, after the handlers registered later have run, so that
 * their order is checked too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <locale.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "checks.h"
#include "libc.h"

void lc_check(const char *what, int ok)
{
	check(what, ok);
}

static int fmt_is(const char *tz, time_t t, const char *want)
{
	char buf[80];
	struct tm tm;

	if (tz)
		setenv("TZ", tz, 1);
	else
		unsetenv("TZ");
	tzset();
	if (!localtime_r(&t, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z %z", &tm))
		return 0;
	if (strcmp(buf, want)) {
		printf("  got \"%s\"\n", buf);
		return 0;
	}
	return 1;
}

static void be32(unsigned char *p, unsigned v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

/* A TZif version 2 file of one zone type, IST (+05:30), no transitions,
 * and its POSIX rule as the footer, the way zic writes a fixed zone. */
static int write_tzif(const char *path)
{
	unsigned char z[128] = { 0 }, *p = z;
	FILE *f;
	int half;

	for (half = 0; half < 2; half++) {
		memcpy(p, "TZif2", 5);
		be32(p + 36, 1);	/* typecnt */
		be32(p + 40, 4);	/* charcnt */
		be32(p + 44, 19800);	/* utoff; isdst 0, desigidx 0 */
		memcpy(p + 50, "IST", 4);
		p += 54;
	}
	memcpy(p, "\nIST-5:30\n", 10);
	p += 10;
	f = fopen(path, "wb");
	return f && fwrite(z, 1, p - z, f) == (size_t)(p - z) && fclose(f) == 0;
}

static void busy_ms(long ms)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

static void time_checks(void)
{
	struct tm tm = { .tm_year = 123, .tm_mon = 6, .tm_mday = 1, .tm_hour = 12,
			 .tm_isdst = -1 }, g;
	time_t t = 1700000000;
	struct timespec res;
	struct tms tms;
	clock_t c0, c1;
	clock_t ticks;

	check("localtime without TZ or /etc/localtime is UTC",
	      fmt_is(NULL, t, "2023-11-14 22:13:20 UTC +0000"));
	check("TZ=UTC0", fmt_is("UTC0", t, "2023-11-14 22:13:20 UTC +0000"));
	check("a POSIX TZ string in winter",
	      fmt_is("CET-1CEST,M3.5.0,M10.5.0/3", t, "2023-11-14 23:13:20 CET +0100"));
	check("a POSIX TZ string in summer",
	      fmt_is("CET-1CEST,M3.5.0,M10.5.0/3", 1690000000, "2023-07-22 06:26:40 CEST +0200"));
	check("mktime finds summer time", mktime(&tm) == 1688205600 && tm.tm_isdst == 1);
	check("gmtime and timegm", gmtime_r(&t, &g) && g.tm_hour == 22 && g.tm_yday == 317 &&
	      timegm(&g) == t);
	check("/etc/localtime written as TZif",
	      write_tzif("/etc/localtime") && fmt_is(NULL, t, "2023-11-15 03:43:20 IST +0530"));
	check("TZ naming a file", rename("/etc/localtime", "/tmp/zone") == 0 &&
	      fmt_is(":/tmp/zone", 0, "1970-01-01 05:30:00 IST +0530"));
	check("difftime", difftime(t + 90, t) == 90.0);
	c0 = clock();
	busy_ms(30);
	c1 = clock();
	check("clock() counts a busy loop", c0 != (clock_t)-1 && c1 - c0 >= 20000);
	ticks = times(&tms);
	check("times() and _SC_CLK_TCK", ticks != (clock_t)-1 && sysconf(_SC_CLK_TCK) == 100 &&
	      tms.tms_utime + tms.tms_stime > 0);
	check("clock_getres of the monotonic clock",
	      clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 &&
	      res.tv_nsec > 0 && res.tv_nsec <= 1000000);
	check("clock_getres of a thread's CPU clock",
	      clock_getres(CLOCK_THREAD_CPUTIME_ID, &res) == 0 && res.tv_nsec > 0);
	unsetenv("TZ");
}

static void user_checks(void)
{
	struct passwd *pw = getpwuid(getuid());
	struct group *gr = getgrgid(getgid());
	char host[65] = "";
	struct utsname u;

	check("getpwuid(getuid()) is root", pw && strcmp(pw->pw_name, "root") == 0 &&
	      pw->pw_uid == 0 && pw->pw_dir && pw->pw_dir[0] == '/');
	pw = getpwnam("root");
	check("getpwnam(\"root\")", pw && pw->pw_uid == 0 && pw->pw_gid == 0);
	check("getpwnam of nobody known: NULL", getpwnam("no-such-user") == NULL);
	check("getgrgid(getgid()) is root", gr && strcmp(gr->gr_name, "root") == 0);
	check("getgrnam(\"root\")", (gr = getgrnam("root")) && gr->gr_gid == 0);
	setenv("LOGNAME", "root", 1);
	check("getlogin is LOGNAME (musl)", getlogin() && strcmp(getlogin(), "root") == 0);
	check("gethostname is uname's nodename", gethostname(host, sizeof(host)) == 0 &&
	      uname(&u) == 0 && strcmp(host, u.nodename) == 0 && host[0]);
	check("sethostname", sethostname("sweep", 5) == 0 && gethostname(host, sizeof(host)) == 0 &&
	      strcmp(host, "sweep") == 0 && uname(&u) == 0 && strcmp(u.nodename, "sweep") == 0);
	printf("  hostname \"%s\", errno %d\n", host, errno);
}

static int port_of(struct addrinfo *ai)
{
	return ntohs(((struct sockaddr_in *)ai->ai_addr)->sin_port);
}

static void lookup_checks(void)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(8080),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char host[64], serv[16], txt[INET6_ADDRSTRLEN];
	unsigned char a6[16];
	FILE *f;
	int rc;

	rc = getaddrinfo("localhost", "8080", &hints, &ai);
	check("getaddrinfo(\"localhost\") through /etc/hosts", rc == 0 && ai &&
	      ((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
	      port_of(ai) == 8080);
	freeaddrinfo(ai);
	rc = getaddrinfo("127.0.0.1", "80", &hints, &ai);
	check("getaddrinfo of a numeric address", rc == 0 && port_of(ai) == 80);
	freeaddrinfo(ai);
	rc = getaddrinfo("localhost", "http", &hints, &ai);
	check("a service name without /etc/services: EAI_SERVICE", rc == EAI_SERVICE);
	f = fopen("/etc/resolv.conf", "w");
	fputs("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n", f);
	fclose(f);
	rc = getaddrinfo("no-such-host.example", NULL, &hints, &ai);
	check("an unknown name: no DNS server answers, EAI_AGAIN after the timeout",
	      rc == EAI_AGAIN);
	rc = getnameinfo((struct sockaddr *)&sa, sizeof(sa), host, sizeof(host), serv,
			 sizeof(serv), NI_NAMEREQD);
	check("getnameinfo finds localhost", rc == 0 && strcmp(host, "localhost") == 0 &&
	      strcmp(serv, "8080") == 0);
	check("inet_pton/inet_ntop, IPv6", inet_pton(AF_INET6, "fe80::1:2", a6) == 1 &&
	      inet_ntop(AF_INET6, a6, txt, sizeof(txt)) && strcmp(txt, "fe80::1:2") == 0);
	check("inet_pton rejects junk", inet_pton(AF_INET, "1.2.3.256", a6) == 0);
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void stdio_buffers(void)
{
	static char buf[4096];
	FILE *f = fopen("/tmp/vbuf", "w");

	setvbuf(f, buf, _IOFBF, sizeof(buf));
	fputs("full\n", f);
	check("setvbuf _IOFBF holds a line", file_size("/tmp/vbuf") == 0);
	fflush(f);
	setvbuf(f = freopen("/tmp/vbuf", "a", f), NULL, _IOLBF, 0);
	fputs("li", f);
	check("setvbuf _IOLBF holds a partial line", file_size("/tmp/vbuf") == 5);
	fputs("ne\n", f);
	check("setvbuf _IOLBF writes at the newline", file_size("/tmp/vbuf") == 10);
	setvbuf(f = freopen("/tmp/vbuf", "a", f), NULL, _IONBF, 0);
	fputc('x', f);
	check("setvbuf _IONBF writes at once", file_size("/tmp/vbuf") == 11);
	fclose(f);
}

static void stdio_streams(void)
{
	char mem[32] = "one two three", word[8], *line = NULL, *out = NULL;
	size_t cap = 0, outlen = 0;
	int longest = 0, lines = 0;
	ssize_t n;
	FILE *f = fmemopen(mem, sizeof(mem), "r+");

	check("fmemopen reads", f && fscanf(f, "%7s", word) == 1 && strcmp(word, "one") == 0);
	fseek(f, 4, SEEK_SET);
	fputs("TWO", f);
	fclose(f);
	check("fmemopen writes into the buffer", strcmp(mem, "one TWO three") == 0);
	f = open_memstream(&out, &outlen);
	fprintf(f, "%a %g %g %.3e", 1.0, 1e-5, 123456789.0, -0.5);
	fclose(f);
	check("open_memstream with %a, %g, %e", out && strcmp(out, "0x1p+0 1e-05 1.23457e+08 -5.000e-01") == 0 &&
	      outlen == strlen(out));
	free(out);
	f = fopen("/tmp/lines", "w+");
	fputs("short\n", f);
	for (int i = 0; i < 10000; i++)
		fputc('a' + i % 26, f);
	fputs("\nlast", f);
	rewind(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		lines++;
		if (n > longest)
			longest = (int)n;
	}
	check("getline over a 10,001-byte line", lines == 3 && longest == 10001 && feof(f));
	free(line);
	fclose(f);
}

static void wide_checks(void)
{
	const char *utf8 = "h\xc3\xa9llo \xe2\x82\xac";	/* héllo € */
	wchar_t w[16];
	char back[32] = "";
	FILE *f;

	check("setlocale \"C\"", setlocale(LC_ALL, "C") != NULL);
	check("setlocale \"C.UTF-8\"", setlocale(LC_ALL, "C.UTF-8") != NULL && MB_CUR_MAX == 4);
	check("mbstowcs", mbstowcs(w, utf8, 16) == 7 && w[1] == 0xe9 && w[6] == 0x20ac);
	f = fopen("/tmp/wide", "w");
	check("fwprintf to a file", f && fwprintf(f, L"%ls=%d", w, 7) == 9 && fclose(f) == 0);
	f = fopen("/tmp/wide", "r");
	check("the wide text reads back as UTF-8",
	      f && fgets(back, sizeof(back), f) && strcmp(back, "h\xc3\xa9llo \xe2\x82\xac=7") == 0);
	fclose(f);
	setlocale(LC_ALL, "C");
}

/* The generic ioctls: FIONBIO then a read on an empty pipe, FIONREAD,
 * FIOCLEX; if_nametoindex/if_indextoname (SIOCGIFINDEX/SIOCGIFNAME). */
static void ioctl_checks(void)
{
	int p[2], on = 1, n = -1;
	char c, name[IF_NAMESIZE] = "";

	check("ioctl: pipe", pipe(p) == 0);
	on = ioctl(p[0], FIONBIO, &on) == 0 && (fcntl(p[0], F_GETFL) & O_NONBLOCK);
	check("ioctl: FIONBIO", on);
	check("ioctl: empty pipe EAGAIN",	/* (not blocking forever) */
	      on && read(p[0], &c, 1) < 0 && errno == EAGAIN);
	check("ioctl: FIONREAD empty", ioctl(p[0], FIONREAD, &n) == 0 && n == 0);
	check("ioctl: FIONREAD", write(p[1], "abc", 3) == 3 &&
	      ioctl(p[0], FIONREAD, &n) == 0 && n == 3);
	check("ioctl: FIOCLEX", ioctl(p[1], FIOCLEX) == 0 &&
	      fcntl(p[1], F_GETFD) == FD_CLOEXEC);
	check("ioctl: not a tty", !isatty(1) && errno == ENOTTY);
	close(p[0]);
	close(p[1]);
	check("if_nametoindex lo", if_nametoindex("lo") == 1);
	check("if_nametoindex eth0", if_nametoindex("eth0") == 0);
	check("if_indextoname 1", if_indextoname(1, name) == name &&
	      strcmp(name, "lo") == 0);
	check("if_indextoname 2", !if_indextoname(2, name) && errno == ENXIO);
}

static void summary(void)
{
	printf("libc: %d of %d checks passed\n", passed, total);
	fflush(stdout);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	atexit(summary);	/* registered first: runs last */
	time_checks();
	user_checks();
	lookup_checks();
	stdio_buffers();
	stdio_streams();
	wide_checks();
	ioctl_checks();
	lc_process();
	lc_files();
	lc_threads();
	lc_memory();
	return 0;
}
