(000) ld       #pktlen
(001) jgt      #0x40            jt 13	jf 2
(002) ldh      [12]
(003) jeq      #0x800           jt 4	jf 6
(004) ldb      [23]
(005) jeq      #0x6             jt 12	jf 13
(006) jeq      #0x86dd          jt 7	jf 13
(007) ldb      [20]
(008) jeq      #0x6             jt 12	jf 9
(009) jeq      #0x2c            jt 10	jf 13
(010) ldb      [54]
(011) jeq      #0x6             jt 12	jf 13
(012) ret      #262144
(013) ret      #0
