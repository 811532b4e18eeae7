(000) ld       #pktlen
(001) jgt      #0x40            jt 15	jf 2
(002) ldh      [12]
(003) jeq      #0x800           jt 4	jf 6
(004) ldb      [23]
(005) jeq      #0x6             jt 14	jf 6
(006) ldh      [12]
(007) jeq      #0x86dd          jt 8	jf 15
(008) ldb      [20]
(009) jeq      #0x6             jt 14	jf 10
(010) ldb      [20]
(011) jeq      #0x2c            jt 12	jf 15
(012) ldb      [54]
(013) jeq      #0x6             jt 14	jf 15
(014) ret      #262144
(015) ret      #0
