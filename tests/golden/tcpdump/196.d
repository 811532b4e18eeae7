(000) ldh      [12]
(001) jeq      #0x86dd          jt 19	jf 2
(002) jeq      #0x800           jt 3	jf 19
(003) ldb      [23]
(004) jeq      #0x6             jt 5	jf 19
(005) ldh      [20]
(006) jset     #0x1fff          jt 19	jf 7
(007) ldxb     4*([14]&0xf)
(008) ldh      [x + 14]
(009) jeq      #0x50            jt 14	jf 10
(010) jeq      #0x1bb           jt 14	jf 11
(011) ldh      [x + 16]
(012) jeq      #0x50            jt 14	jf 13
(013) jeq      #0x1bb           jt 14	jf 19
(014) ld       [26]
(015) jeq      #0xa000001       jt 18	jf 16
(016) ld       [30]
(017) jeq      #0xa000001       jt 18	jf 19
(018) ret      #262144
(019) ret      #0
