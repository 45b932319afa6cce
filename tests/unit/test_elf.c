/* The ELF header checks of the loader: real binaries are accepted, and each
 * kind of malformed header is refused with ENOEXEC, never read out of
 * bounds (run under ASan). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sentry/loader/elf.h"

#define IMG_SIZE 8192
#define INTERP	 "/lib64/ld-linux-x86-64.so.2"

struct img {
	unsigned char b[IMG_SIZE];
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;
};

static struct elf_info info;

/* A plausible PIE: PHDR, INTERP, two PT_LOADs, GNU_STACK. */
static void img_init(struct img *m, bool interp)
{
	memset(m->b, 0, sizeof(m->b));
	m->eh = (Elf64_Ehdr *)m->b;
	m->ph = (Elf64_Phdr *)(m->b + sizeof(Elf64_Ehdr));
	Elf64_Ehdr *eh = m->eh;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0x1100;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);

	int n = 0;
	Elf64_Phdr *p = m->ph;
	p[n++] = (Elf64_Phdr){.p_type = PT_PHDR,
			      .p_flags = PF_R,
			      .p_offset = 64,
			      .p_vaddr = 64,
			      .p_filesz = 5 * sizeof(Elf64_Phdr),
			      .p_memsz = 5 * sizeof(Elf64_Phdr),
			      .p_align = 8};
	if (interp) {
		strcpy((char *)m->b + 0x300, INTERP);
		p[n++] = (Elf64_Phdr){.p_type = PT_INTERP,
				      .p_flags = PF_R,
				      .p_offset = 0x300,
				      .p_vaddr = 0x300,
				      .p_filesz = sizeof(INTERP),
				      .p_memsz = sizeof(INTERP),
				      .p_align = 1};
	}
	p[n++] = (Elf64_Phdr){.p_type = PT_LOAD,
			      .p_flags = PF_R | PF_X,
			      .p_offset = 0,
			      .p_vaddr = 0,
			      .p_filesz = 0x1200,
			      .p_memsz = 0x1200,
			      .p_align = 0x1000};
	p[n++] = (Elf64_Phdr){.p_type = PT_LOAD,
			      .p_flags = PF_R | PF_W,
			      .p_offset = 0x1200,
			      .p_vaddr = 0x2200,
			      .p_filesz = 0x100,
			      .p_memsz = 0x5000,
			      .p_align = 0x1000};
	p[n++] = (Elf64_Phdr){.p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W};
	eh->e_phnum = n;
}

static int parse(struct img *m)
{
	return elf_parse(m->b, sizeof(m->b), sizeof(m->b), &info);
}

/* The index of the i-th PT_LOAD. */
static Elf64_Phdr *load(struct img *m, int i)
{
	for (int k = 0; k < m->eh->e_phnum; k++)
		if (m->ph[k].p_type == PT_LOAD && i-- == 0)
			return &m->ph[k];
	fail();
	return NULL;
}

static void test_good_pie(void **state)
{
	(void)state;
	struct img m;
	img_init(&m, true);
	assert_int_equal(parse(&m), 0);
	assert_int_equal(info.type, ET_DYN);
	assert_int_equal(info.entry, 0x1100);
	assert_int_equal(info.min_vaddr, 0);
	assert_int_equal(info.max_vaddr, 0x8000);
	assert_true(info.has_interp);
	assert_string_equal(info.interp, INTERP);
	assert_true(info.has_gnu_stack);
	assert_int_equal(info.stack_flags, PF_R | PF_W);
	assert_int_equal(info.phdr_vaddr, 64);
	assert_int_equal(elf_prot(PF_R | PF_X), PROT_READ | PROT_EXEC);
}

static void test_good_static(void **state)
{
	(void)state;
	struct img m;
	img_init(&m, false);
	m.eh->e_type = ET_EXEC;
	m.eh->e_entry = 0x401100;
	for (int i = 0; i < m.eh->e_phnum; i++)
		if (m.ph[i].p_type == PT_LOAD || m.ph[i].p_type == PT_PHDR)
			m.ph[i].p_vaddr += 0x400000;
	assert_int_equal(parse(&m), 0);
	assert_false(info.has_interp);
	assert_int_equal(info.min_vaddr, 0x400000);
	assert_int_equal(info.phdr_vaddr, 0x400040);
	/* Without PT_PHDR the table is found inside the first PT_LOAD. */
	m.ph[0].p_type = PT_NULL;
	assert_int_equal(parse(&m), 0);
	assert_int_equal(info.phdr_vaddr, 0x400040);
}

static void test_truncated(void **state)
{
	(void)state;
	struct img m;
	img_init(&m, true);
	assert_int_equal(elf_parse(m.b, 10, sizeof(m.b), &info), -ENOEXEC);
	assert_int_equal(elf_parse(m.b, 63, sizeof(m.b), &info), -ENOEXEC);
	/* The file ends inside the program headers. */
	assert_int_equal(elf_parse(m.b, sizeof(m.b), 100, &info), -ENOEXEC);
	/* The file ends inside a segment's file data. */
	assert_int_equal(elf_parse(m.b, sizeof(m.b), 0x1250, &info), -ENOEXEC);
	/* The buffer (not the file) ends before the interp path. */
	assert_int_equal(elf_parse(m.b, 0x305, sizeof(m.b), &info), -ENOEXEC);
	assert_int_equal(elf_parse_ehdr(m.b, 0, 0, &info), -ENOEXEC);
}

static void test_bad_ident(void **state)
{
	(void)state;
	struct img m;
	static const struct {
		size_t off;
		unsigned char v;
	} cases[] = {{0, 0x7e},
		     {1, 'e'},
		     {EI_CLASS, ELFCLASS32},
		     {EI_CLASS, ELFCLASSNONE},
		     {EI_DATA, ELFDATA2MSB}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		img_init(&m, true);
		m.b[cases[i].off] = cases[i].v;
		assert_int_equal(parse(&m), -ENOEXEC);
	}
}

static void test_bad_type_machine(void **state)
{
	(void)state;
	struct img m;
	img_init(&m, true);
	m.eh->e_machine = EM_386;
	assert_int_equal(parse(&m), -ENOEXEC);
	img_init(&m, true);
	m.eh->e_machine = EM_AARCH64;
	assert_int_equal(parse(&m), -ENOEXEC);
	img_init(&m, true);
	m.eh->e_type = ET_REL;
	assert_int_equal(parse(&m), -ENOEXEC);
	img_init(&m, true);
	m.eh->e_type = ET_CORE;
	assert_int_equal(parse(&m), -ENOEXEC);
}

static void test_bad_phdr_table(void **state)
{
	(void)state;
	struct img m;
	img_init(&m, true);
	m.eh->e_phnum = 0xffff;
	assert_int_equal(parse(&m), -ENOEXEC);
	img_init(&m, true);
	m.eh->e_phnum = ELF_MAX_PHNUM + 1;
	assert_int_equal(parse(&m), -ENOEXEC);
	img_init(&m, true);
	m.eh->e_phnum = 0;
	assert_int_equal(parse(&m), -ENOEXEC);
	img_init(&m, true);
	m.eh->e_phentsize = 32;
	assert_int_equal(parse(&m), -ENOEXEC);
	img_init(&m, true);
	m.eh->e_phoff = IMG_SIZE;
	assert_int_equal(parse(&m), -ENOEXEC);
	img_init(&m, true);
	m.eh->e_phoff = UINT64_MAX - 8;
	assert_int_equal(parse(&m), -ENOEXEC);
	/* No PT_LOAD at all. */
	img_init(&m, false);
	load(&m, 1)->p_type = PT_NOTE;
	load(&m, 0)->p_type = PT_NOTE;
	assert_int_equal(parse(&m), -ENOEXEC);
}

static void test_bad_segments(void **state)
{
	(void)state;
	struct img m;

	img_init(&m, true); /* filesz > memsz */
	load(&m, 1)->p_filesz = 0x6000;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* data past the end of the file */
	load(&m, 1)->p_offset = IMG_SIZE - 0x10;
	load(&m, 1)->p_vaddr = 0x3000 + ((IMG_SIZE - 0x10) & 0xfff);
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* offset + filesz wraps */
	load(&m, 1)->p_offset = UINT64_MAX - 0xff;
	load(&m, 1)->p_vaddr = 0x3000 + 0xf00;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* vaddr + memsz wraps */
	load(&m, 1)->p_memsz = UINT64_MAX - 0x1000;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* beyond the user address range */
	load(&m, 1)->p_vaddr = ELF_VADDR_LIMIT - 0x1000 + 0x200;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* overlapping segments */
	load(&m, 1)->p_vaddr = 0x1100;
	load(&m, 1)->p_offset = 0x100;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* out of order */
	load(&m, 0)->p_vaddr = 0x10000;
	m.eh->e_entry = 0x10100;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* offset and address disagree within a page */
	load(&m, 1)->p_vaddr = 0x2300;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* alignment not a power of two */
	load(&m, 1)->p_align = 0x3000;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* entry outside the image */
	m.eh->e_entry = 0x100000;
	assert_int_equal(parse(&m), -ENOEXEC);
}

static void test_bad_interp(void **state)
{
	(void)state;
	struct img m;
	Elf64_Phdr *ip;

	img_init(&m, true); /* unterminated */
	ip = &m.ph[1];
	assert_int_equal(ip->p_type, PT_INTERP);
	ip->p_filesz -= 1;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* a NUL inside the path */
	m.b[0x305] = 0;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* longer than PATH_MAX */
	m.ph[1].p_filesz = PATH_MAX + 1;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* too short to name anything */
	m.ph[1].p_filesz = 1;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* past the end of the file */
	m.ph[1].p_offset = IMG_SIZE - 4;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* two interpreters */
	m.ph[m.eh->e_phnum] = m.ph[1];
	m.eh->e_phnum++;
	assert_int_equal(parse(&m), -ENOEXEC);

	img_init(&m, true); /* elf_parse_interp wants exactly interp_len */
	assert_int_equal(parse(&m), 0);
	assert_int_equal(elf_parse_interp(&info, INTERP, sizeof(INTERP) - 1),
			 -ENOEXEC);
}

/* Parse a host binary the way the loader does: header from the first
 * page, program headers and interp from wherever they are. */
static int parse_host_file(const char *path, struct elf_info *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	unsigned char *b = malloc(st.st_size);
	assert_non_null(b);
	assert_int_equal(pread(fd, b, st.st_size, 0), st.st_size);
	close(fd);
	int err = elf_parse_ehdr(b, 4096, st.st_size, out);
	if (!err)
		err = elf_parse_phdrs(out, b + out->phoff,
				      out->phnum * sizeof(Elf64_Phdr),
				      st.st_size);
	if (!err && out->has_interp)
		err =
		    elf_parse_interp(out, b + out->interp_off, out->interp_len);
	/* The one-buffer form agrees. */
	static struct elf_info again;
	assert_int_equal(elf_parse(b, st.st_size, st.st_size, &again), err);
	free(b);
	return err;
}

static void test_host_binaries(void **state)
{
	(void)state;
	static const char *const paths[] = {"/bin/busybox", "/bin/true",
					    "/bin/sh"};
	int tested = 0;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (access(paths[i], R_OK) != 0)
			continue;
		assert_int_equal(parse_host_file(paths[i], &info), 0);
		assert_true(info.type == ET_EXEC || info.type == ET_DYN);
		assert_true(info.min_vaddr < info.max_vaddr);
		assert_true(info.phdr_vaddr != 0);
		if (info.has_interp)
			assert_int_equal(info.interp[0], '/');
		tested++;
	}
	assert_true(tested > 0);
	/* A non-ELF file. */
	if (access("/etc/passwd", R_OK) == 0)
		assert_int_equal(parse_host_file("/etc/passwd", &info),
				 -ENOEXEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_pie),
	    cmocka_unit_test(test_good_static),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_bad_ident),
	    cmocka_unit_test(test_bad_type_machine),
	    cmocka_unit_test(test_bad_phdr_table),
	    cmocka_unit_test(test_bad_segments),
	    cmocka_unit_test(test_bad_interp),
	    cmocka_unit_test(test_host_binaries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
