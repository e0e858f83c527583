/* A downstream application: formats, checks its own result, exits 0. */
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>

int cub_main(void)
{
	char buf[32];

	cub_snprintf(buf, sizeof(buf), "%s-%04d", "downstream", 7);
	cub_printk("downstream app says: %s\n", buf);
	return cub_strcmp(buf, "downstream-0007") == 0 ? 0 : 1;
}
