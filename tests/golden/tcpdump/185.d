(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 11
(002) ldb      [38]
(003) jeq      #0xff            jt 4	jf 11
(004) ldb      [20]
(005) jeq      #0x11            jt 6	jf 11
(006) ldh      [54]
(007) jeq      #0x14e9          jt 10	jf 8
(008) ldh      [56]
(009) jeq      #0x14e9          jt 10	jf 11
(010) ret      #262144
(011) ret      #0
