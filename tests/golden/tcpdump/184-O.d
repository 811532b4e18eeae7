(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 17
(002) ldb      [30]
(003) jge      #0xe0            jt 4	jf 17
(004) ldh      [12]
(005) jeq      #0x800           jt 6	jf 8
(006) ldb      [23]
(007) jeq      #0x11            jt 16	jf 8
(008) ldh      [12]
(009) jeq      #0x86dd          jt 10	jf 17
(010) ldb      [20]
(011) jeq      #0x11            jt 16	jf 12
(012) ldb      [20]
(013) jeq      #0x2c            jt 14	jf 17
(014) ldb      [54]
(015) jeq      #0x11            jt 16	jf 17
(016) ret      #262144
(017) ret      #0
