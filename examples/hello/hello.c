/* hello - the smallest cubrt application: print and exit 0. */
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>

int cub_main(void)
{
	const char *args = cub_cmdline();

	cub_printk("Hello from cubrt on bare-metal x86-64!\n");
	if (args[0])
		cub_printk("command line: %s\n", args);
	return 0;
}
