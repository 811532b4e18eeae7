(000) ldh      [12]
(001) jeq      #0x8100          jt 6	jf 2
(002) ldh      [12]
(003) jeq      #0x88a8          jt 6	jf 4
(004) ldh      [12]
(005) jeq      #0x9100          jt 6	jf 10
(006) ldh      [14]
(007) and      #0xfff
(008) jeq      #0x64            jt 9	jf 10
(009) ret      #262144
(010) ret      #0
