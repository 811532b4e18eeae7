(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 12
(002) ldb      [23]
(003) jeq      #0x6             jt 4	jf 12
(004) ldh      [20]
(005) jset     #0x1fff          jt 12	jf 6
(006) ldxb     4*([14]&0xf)
(007) ldb      [x + 34]
(008) jeq      #0x16            jt 9	jf 12
(009) ldb      [x + 39]
(010) jeq      #0x1             jt 11	jf 12
(011) ret      #262144
(012) ret      #0
