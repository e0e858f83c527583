/*
 * sse.c - applications may use SSE and x87 floating point (boot.S enables
 * them; only cubrt's own code is built without). Computes with doubles,
 * floats and long doubles and checks exact, known results.
 */
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>

static volatile double three = 3.0;
static volatile long double seven = 7.0L;

int cub_main(void)
{
	double x = 1.0;
	float f = 0.5f;
	long double l = seven;

	for (int i = 0; i < 20; i++)
		x = x * three / 2.0;	/* (3/2)^20 */
	f = f * f + 0.25f;
	l = l * l - 49.0L;
	cub_printk("sse: (1.5^20)*1000 = %ld, f*1000 = %d, x87 = %d\n",
		   (long)(x * 1000.0), (int)(f * 1000.0f), (int)l);
	if ((long)(x * 1000.0) != 3325256 || (int)(f * 1000.0f) != 500 || l != 0)
		return 1;
	return 0;
}
