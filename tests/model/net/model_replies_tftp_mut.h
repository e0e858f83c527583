/*
 * model_replies_tftp_mut.h - the structural mutations of the TFTP
 * server's replies for model_replies_tftp.h (which includes it after
 * the templates it mutates): by the kind of reply being built (TF.kind,
 * its block and block size), a DATA's opcode, block number (only to
 * numbers the client has passed or never reaches), length past the
 * block, or a conversion to an ERROR for good; an OACK's values, extra,
 * doubled or capitalised options, its last NUL, opcode, or no options;
 * an ERROR's code and message. What each must make the client do is
 * judged from what was sent (tftp_sent), not here.
 */
#ifndef MODEL_REPLIES_TFTP_MUT_H
#define MODEL_REPLIES_TFTP_MUT_H

static const char *tftp_structural_data(struct reply *r)
{
	static const uint16_t far[] = { 0x8000, 0xfffe, 0xffff };

	switch (rnd(5)) {
	case 0:
		t_put16(r->m, (uint32_t)(rnd(3) ? rnd(8) : rnd64()));
		return "opcode";
	case 1:
		if (rnd(2) && TF.block > 1)
			t_put16(r->m + 2, (uint32_t)(TF.block - 1 - rnd(TF.block - 1)));
		else if (rnd(2))
			t_put16(r->m + 2, 0);
		else
			t_put16(r->m + 2, far[rnd(3)]);
		return "block number";
	case 2: {
		size_t was = r->n;

		if (4 + TF.bs >= REPLY_MAX)
			return "none (a whole frame)";
		r->n = 4 + TF.bs + 1 + rnd(REPLY_MAX - 4 - TF.bs);
		for (size_t i = was; i < r->n; i++)
			r->m[i] = (uint8_t)rnd64();
		return "longer than the block";
	}
	case 3:
		/* An ERROR now, and for good: its opcode kept from flips
		 * and a second structural mutation an ERROR's (a DATA
		 * again, its 'x' bytes would be a wrong block). */
		t_put16(r->m, 5);
		t_put16(r->m + 2, (uint32_t)rnd(10));
		memset(r->m + 4, 'x', r->n > 4 ? r->n - 4 : 0);
		r->prot[0] = r->prot[1] = 1;
		TF.kind = 5;
		return "ERROR, unterminated";
	default:
		t_put16(r->m, 6);
		return "OACK in the transfer";
	}
}

static const char *tftp_structural_oack(struct reply *r)
{
	static const char *bad[] = { "0", "7", "65465", "99999", "18446744073709551615",
				     "184467440737095516150", "", "12a", "-1", " 8" };
	unsigned i = TF.nopt ? (unsigned)rnd(TF.nopt) : 0;
	const char *what;

	switch (rnd(8)) {
	case 0:
		if (!TF.nopt)
			return "none (no options)";
		if (rnd(2))
			snprintf(TF.oval[i], sizeof(TF.oval[0]), "%s", bad[rnd(10)]);
		else
			snprintf(TF.oval[i], sizeof(TF.oval[0]), "%llu",
				 (unsigned long long)strtoull(TF.oval[i], NULL, 10) + 1);
		what = "a value out of range";
		break;
	case 1:
		if (TF.nopt == 8)
			return "none (full)";
		tftp_opt("tsize", rnd(2) ? TF.cap + 1 + rnd(100000) : rnd(TF.cap + 1));
		what = "tsize told (a lie, or not asked)";
		break;
	case 2: {
		static const char *na[] = { "windowsize", "multicast", "timeout", "blksize2" };

		if (TF.nopt == 8)
			return "none (full)";
		tftp_opt(na[rnd(4)], 1 + rnd(8));
		what = "an option not asked";
		break;
	}
	case 3:
		if (!TF.nopt || TF.nopt == 8)
			return "none (no options)";
		memcpy(TF.oname[TF.nopt], TF.oname[i], sizeof(TF.oname[0]));
		memcpy(TF.oval[TF.nopt], TF.oval[i], sizeof(TF.oval[0]));
		TF.nopt++;
		what = "an option twice";
		break;
	case 4:
		for (char *c = TF.oname[i]; TF.nopt && *c; c++)
			*c = (char)(*c - 'a' + 'A');
		what = "a name in capitals";
		break;
	case 5:
		tftp_oack_put(r);
		if (r->n > 2)
			r->n--;
		return "the last NUL removed";
	case 6:
		tftp_oack_put(r);
		t_put16(r->m, (uint32_t)rnd(8));
		return "opcode";
	default:
		tftp_oack_put(r);
		r->n = 2;
		return "no options at all";
	}
	tftp_oack_put(r);
	return what;
}

static const char *tftp_structural(struct reply *r)
{
	if (TF.kind == 3)
		return tftp_structural_data(r);
	if (TF.kind == 6)
		return tftp_structural_oack(r);
	switch (rnd(4)) {
	case 0:
		t_put16(r->m + 2, (uint32_t)rnd(10));
		return "code";
	case 1:
		if (r->n > 4)
			r->n--;
		return "message unterminated";
	case 2:
		r->n = 4;
		return "no message";
	default:
		memset(r->m + 4, 'e', REPLY_MAX - 4);
		r->n = REPLY_MAX;
		return "a frame of message, unterminated";
	}
}

#endif
