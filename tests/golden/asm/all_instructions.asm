; Every mnemonic and addressing form bpf_asm accepts, one per line.
; Assembled by the kernel's tools/bpf/bpf_asm (6.1); see regenerate.py.
	ld #42
	ld #0x2a
	ld #len
	ld len
	ld #proto
	ld M[3]
	ld [x + 14]
	ld [%x + 14]
	ld [12]
	ldi #7
	ldi 7
	ldh [12]
	ldh [x + 2]
	ldh [%x + 2]
	ldh #type
	ldb [23]
	ldb [x + 9]
	ldb [%x + 9]
	ldb #vlan_avail
	ldx #5
	ldx #len
	ldx len
	ldx M[15]
	ldx 4*([14]&0xf)
	ldxi #6
	ldxi 6
	ldxb 4*([14]&0xf)
	st M[0]
	stx M[15]
	add #1
	add x
	add %x
	sub #2
	sub x
	sub %x
	mul #3
	mul x
	mul %x
	div #4
	div x
	div %x
	mod #5
	mod x
	mod %x
	neg
	and #0xff
	and x
	and %x
	or #0x100
	or x
	or %x
	xor #0xffffffff
	xor x
	xor %x
	lsh #4
	lsh x
	lsh %x
	rsh #8
	rsh x
	rsh %x
	tax
	txa
	jmp l_jumps
l_jumps:
	ja l_eq
l_eq:	jeq #0x800, l_eqx, l_eqx
l_eqx:	jeq x, l_eqpx, l_eqpx
l_eqpx:	jeq %x, l_eq1, l_eq1
l_eq1:	jeq #1, l_eq1x
l_eq1x:	jeq x, l_eq1px
l_eq1px:	jeq %x, l_ne
l_ne:	jneq #2, l_nex
l_nex:	jneq x, l_nepx
l_nepx:	jneq %x, l_jne
l_jne:	jne #3, l_lt
l_lt:	jlt #4, l_ltx
l_ltx:	jlt x, l_ltpx
l_ltpx:	jlt %x, l_le
l_le:	jle #5, l_lex
l_lex:	jle x, l_lepx
l_lepx:	jle %x, l_gt
l_gt:	jgt #6, l_gtx, l_gtx
l_gtx:	jgt x, l_gtpx, l_gtpx
l_gtpx:	jgt %x, l_gt1, l_gt1
l_gt1:	jgt #7, l_gt1x
l_gt1x:	jgt x, l_gt1px
l_gt1px:	jgt %x, l_ge
l_ge:	jge #8, l_gex, l_gex
l_gex:	jge x, l_gepx, l_gepx
l_gepx:	jge %x, l_ge1, l_ge1
l_ge1:	jge #9, l_ge1x
l_ge1x:	jge x, l_ge1px
l_ge1px:	jge %x, l_set
l_set:	jset #0x10, l_setx, l_setx
l_setx:	jset x, l_setpx, l_setpx
l_setpx:	jset %x, l_set1, l_set1
l_set1:	jset #0x20, l_set1x
l_set1x:	jset x, l_set1px
l_set1px:	jset %x, l_ret
l_ret:	ret a
	ret %a
	ret x
	ret %x
	ret #0
	ret #262144
