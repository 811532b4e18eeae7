(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 16
(002) ldb      [23]
(003) jeq      #0x6             jt 4	jf 26
(004) ldh      [20]
(005) jset     #0x1fff          jt 26	jf 6
(006) ldxb     4*([14]&0xf)
(007) ldh      [x + 14]
(008) jeq      #0x50            jt 13	jf 9
(009) jeq      #0x1bb           jt 13	jf 10
(010) ldh      [x + 16]
(011) jeq      #0x50            jt 13	jf 12
(012) jeq      #0x1bb           jt 13	jf 26
(013) ld       [26]
(014) and      #0xff000000
(015) jeq      #0xa000000       jt 26	jf 25
(016) jeq      #0x86dd          jt 17	jf 26
(017) ldb      [20]
(018) jeq      #0x6             jt 19	jf 26
(019) ldh      [54]
(020) jeq      #0x50            jt 25	jf 21
(021) jeq      #0x1bb           jt 25	jf 22
(022) ldh      [56]
(023) jeq      #0x50            jt 25	jf 24
(024) jeq      #0x1bb           jt 25	jf 26
(025) ret      #262144
(026) ret      #0
