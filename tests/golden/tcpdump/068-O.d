(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 4
(002) ldb      [23]
(003) jeq      #0x6             jt 24	jf 4
(004) ldh      [12]
(005) jeq      #0x86dd          jt 6	jf 12
(006) ldb      [20]
(007) jeq      #0x6             jt 24	jf 8
(008) ldb      [20]
(009) jeq      #0x2c            jt 10	jf 12
(010) ldb      [54]
(011) jeq      #0x6             jt 24	jf 12
(012) ldh      [12]
(013) jeq      #0x800           jt 14	jf 16
(014) ldb      [23]
(015) jeq      #0x11            jt 24	jf 16
(016) ldh      [12]
(017) jeq      #0x86dd          jt 18	jf 25
(018) ldb      [20]
(019) jeq      #0x11            jt 24	jf 20
(020) ldb      [20]
(021) jeq      #0x2c            jt 22	jf 25
(022) ldb      [54]
(023) jeq      #0x11            jt 24	jf 25
(024) ret      #0
(025) ret      #262144
